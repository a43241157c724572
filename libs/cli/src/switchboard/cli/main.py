"""The `switchboard` command line."""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
import sys
import time
from types import FrameType
from typing import Any

import typer
from typer.core import TyperGroup

from switchboard.common.settings import Settings

GROUPS = ("dnc", "dlq", "operator", "tenant")
"""Command groups, each the `app` of the module `switchboard.cli.<name>`."""


class CommandsWithGroups(TyperGroup):
    """The commands, and each group imported only when it is called (or help lists them): the
    groups' imports (SQLAlchemy, Alembic, Kafka's client) were 1.2 s of CPU at every call's start,
    for `switchboard status --help` as much as for each service `switchboard service` starts. A
    command that needs one of those libraries itself still imports it when it runs."""

    # Typer's Click is its own (typer._click), not a public module: its types stay unnamed here.
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name not in GROUPS:
            return super().get_command(ctx, name)
        group = typer.main.get_group(importlib.import_module(f"switchboard.cli.{name}").app)
        group.name = name
        return group


app = typer.Typer(
    cls=CommandsWithGroups,
    help="Switchboard: an event-driven omnichannel contact centre.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def up() -> None:
    """Run the whole centre on this machine until Ctrl-C."""
    from switchboard.cli.centre import Centre

    settings = Settings()
    centre = Centre(settings)
    stop = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started = time.monotonic()
    try:
        centre.start()
        typer.echo("Starting services ...")
        centre.wait_healthy(timeout=120)
        _print_welcome(settings, centre.services, time.monotonic() - started)
        while not stop:
            for name in centre.supervisor.check() if centre.supervisor else []:
                typer.echo(f"restarted {name} (see {settings.log_dir / (name + '.log')})", err=True)
            time.sleep(0.5)
    finally:
        typer.echo("Stopping ...")
        centre.stop()
        typer.echo("Stopped.")


def _print_welcome(settings: Settings, services: tuple[str, ...], seconds: float) -> None:
    broker = "embedded (memory only)" if settings.embedded_broker else "external"
    typer.echo(f"\nSwitchboard is up ({seconds:.1f} s).")
    typer.echo(f"  Kafka        {settings.kafka_bootstrap}  [{broker}]")
    database = settings.database_url or f"{settings.var_dir}/<service>.db (SQLite, one per service)"
    typer.echo(f"  Database     {database}")
    for name in services:
        typer.echo(f"  {name:<12} {settings.base_url(name)}  (/healthz, /metrics, /docs)")
    typer.echo(f"  Credentials  {settings.credentials_file}")
    typer.echo(f"  Logs         {settings.log_dir}/<service>.log")
    typer.echo(f"  Traces       {settings.trace_dir}/")
    if "desktop" in services:
        typer.echo(
            f"\nAgent desktop: {settings.base_url('desktop')}/ (the demo agents' passwords are in "
            f'{settings.credentials_file}, under "agents"; operators sign in at '
            f"{settings.base_url('desktop')}/v1/operators/session, one demo person per role under "
            '"operators").'
        )
    typer.echo("Try `switchboard demo` in another terminal. Ctrl-C stops everything.\n")


@app.command()
def migrate() -> None:
    """Bring the database schema to this build's head (run before the services of a new build)."""
    from switchboard.cli import migrations

    asyncio.run(migrations.upgrade_all(Settings().database_urls))
    typer.echo(f"schema at {migrations.head()}")


@app.command()
def service(name: str) -> None:
    """Run one service in this process (as containers and Kubernetes run it)."""
    from switchboard.cli import migrations
    from switchboard.cli.http_server import serve
    from switchboard.cli.services import build_app
    from switchboard.common.logging import configure_logging

    settings = Settings()
    configure_logging(service=name, level=settings.log_level)
    migrations.wait_until_current(settings.sqlalchemy_url_for(name))
    try:
        http_app = build_app(name)
    except KeyError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    serve(http_app, host=settings.host, port=settings.port_of(name))


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, nothing else."),
    timeout: float = typer.Option(30.0, help="Seconds to wait for recording."),
) -> None:
    """Send a sample contact and print it once recording has it (exit 1 if it never does)."""
    from switchboard.cli.demo import run_demo

    settings = Settings()
    if not settings.credentials_file.exists():
        typer.echo(f"{settings.credentials_file} not found: is `switchboard up` running?", err=True)
        raise typer.Exit(2)
    lines, ok = run_demo(settings, timeout=timeout)
    for line in lines:
        typer.echo(json.dumps(line))
    if not as_json:
        typer.echo("recorded" if ok else "NOT recorded within the timeout", err=True)
    raise typer.Exit(0 if ok else 1)


@app.command()
def seed() -> None:
    """Create the schema, apply the centre configuration and write the credentials file
    (what `up` does before starting services; containers run it once)."""
    import asyncio

    from switchboard.cli.seed import seed as seed_centre

    settings = Settings()
    creds = asyncio.run(seed_centre(settings))
    typer.echo(
        f"seeded tenants {', '.join(creds['tenants'])}; credentials in {settings.credentials_file}"
    )


@app.command()
def healthcheck(name: str) -> None:
    """Exit 0 when service NAME answers /healthz with 200 (a container's health check)."""
    import httpx

    settings = Settings()
    try:
        ok = httpx.get(settings.base_url(name) + "/healthz", timeout=3).status_code == 200
    except (httpx.HTTPError, KeyError):
        ok = False
    raise typer.Exit(0 if ok else 1)


@app.command()
def trace(
    contact_id: str,
    as_json: bool = typer.Option(False, "--json", help="The waterfall as JSON."),
) -> None:
    """A contact's trace across the services as a waterfall (from the exported spans)."""
    from rich.console import Console

    from switchboard.cli import trace as traces

    settings = Settings()
    waterfall = traces.build(settings.trace_dir, contact_id)
    if waterfall is None:
        typer.echo(f"no spans for contact {contact_id} under {settings.trace_dir}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(traces.as_json(waterfall))
    else:
        traces.render(waterfall, Console(highlight=False))


@app.command()
def status(
    watch: bool = typer.Option(False, "--watch", help="Refresh every 2 s until Ctrl-C."),
    as_json: bool = typer.Option(False, "--json", help="The status as JSON."),
) -> None:
    """Every service's health, consumer lag, outbox backlog, and the dead letters waiting."""
    import asyncio

    from rich.console import Console
    from rich.live import Live

    from switchboard.cli import status as centre_status

    settings = Settings()
    if as_json:
        typer.echo(json.dumps(centre_status.as_dict(asyncio.run(centre_status.collect(settings)))))
        return
    view = centre_status.table(asyncio.run(centre_status.collect(settings)), settings)
    if not watch:
        Console().print(view)
        return
    with Live(view, refresh_per_second=1) as live:
        try:
            while True:
                time.sleep(2)
                live.update(
                    centre_status.table(asyncio.run(centre_status.collect(settings)), settings)
                )
        except KeyboardInterrupt:
            pass


@app.command()
def topics(
    create: bool = typer.Option(
        False, "--create", help="Create every topic and its DLQ on the broker (existing ones stay)."
    ),
    replication_factor: int | None = typer.Option(
        None,
        "--replication-factor",
        help="With --create: replicas per partition (default: 3, or the brokers there are).",
    ),
) -> None:
    """List the topic registry: name, partitions, key, payload; or create the topics."""
    from switchboard.common.topics import REGISTRY

    if create:
        import asyncio

        from switchboard.common.broker import ensure_topics, partitions_for

        settings = Settings()
        asyncio.run(
            ensure_topics(
                settings.kafka_bootstrap,
                replication_factor=replication_factor,
                partitions=partitions_for(settings),
            )
        )
        typer.echo(f"{2 * len(REGISTRY)} topics present on {settings.kafka_bootstrap}")
        return

    for topic in REGISTRY:
        typer.echo(
            f"{topic.name:<24} partitions={topic.partitions:<3} key={topic.key:<12} "
            f"payload={topic.payload.__name__:<18} dlq={topic.dlq}"
        )


if __name__ == "__main__":
    sys.exit(app())
