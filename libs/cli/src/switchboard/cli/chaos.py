"""`make chaos` (`python -m switchboard.cli.chaos`): the whole centre under load while its parts
fail, and an account of what the outside world lost.

The centre runs as `switchboard up` runs it, except that its broker and (on PostgreSQL) its
database are reached through fault-injecting proxies the suite starts itself
(switchboard.cli.faultproxy). Channel systems hand in signed emails and calls and agents work them
over the desktop's API and event stream (switchboard.cli.chaos_load) while, in turn: each service
is killed with SIGKILL, two at once, the broker connection is cut, and the database stalled (on
SQLite: another process holds every file's write lock). Then the load stops, the centre drains, and the
suite prints, per backend:

- acknowledged contacts lost (202 answered, never recorded): must be 0;
- duplicated records or timeline entries: must be 0;
- contacts stuck, never assigned although agents were free: must be 0;
- dead letters and set-aside rows, with their reasons;
- 5xx answers (and refused connections) during each fault, and each service's time to be healthy.

It exits 1 when any "must be 0" is not. `--short` is the form CI runs: lighter load, fewer faults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from switchboard.cli.centre import Centre
from switchboard.cli.chaos_load import Ledger, staffed
from switchboard.cli.chaos_report import FaultResult, Report, account, render
from switchboard.cli.faultproxy import FaultProxy
from switchboard.cli.scratch import create_database, drop_database
from switchboard.cli.services import SERVICES
from switchboard.common.embedded_broker import EmbeddedBroker
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Plan:
    agents: int
    per_second: float
    warm_up: float
    outage: float
    kill_each: bool


FULL = Plan(agents=20, per_second=6.0, warm_up=15.0, outage=10.0, kill_each=True)
SHORT = Plan(agents=8, per_second=3.0, warm_up=8.0, outage=5.0, kill_each=False)


def centre_yaml(agents: int) -> dict[str, Any]:
    """One tenant with one queue, its channel systems and `agents` agents."""
    return {
        "tenants": [
            {
                "id": "acme",
                "name": "Acme Energy",
                "addresses": {
                    "email": ["help@acme.example"],
                    "phone": ["+61255501000"],
                    "fax": ["+61255501099"],
                },
                "queues": [{"id": "general", "name": "General", "default": True}],
            }
        ],
        "channel_systems": [
            {"id": "acme-mail", "tenant": "acme", "channels": ["email"]},
            {"id": "acme-cti", "tenant": "acme", "channels": ["phone"]},
        ],
        "agents": [
            {
                "id": f"agent{n:02d}",
                "name": f"Agent {n}",
                "tenants": ["acme"],
                "capacity": {"phone": 1, "email": 3},
            }
            for n in range(agents)
        ],
    }


PortChooser = Callable[..., dict[str, int]]
"""A free port for each name given, no two the same (`process.free_ports`)."""


@contextmanager
def running(
    backend: str, plan: Plan, var_dir: Path, *, choose_ports: PortChooser = free_ports
) -> Iterator[tuple[Centre, Callable[[], Any]]]:
    """The centre on `backend`, its broker (and PostgreSQL) behind proxies, on ports from
    `choose_ports`; yields the centre and the database fault to inject."""
    with ExitStack() as stack:
        ports = choose_ports(*SERVICES, "smtp", "broker", "kafka_proxy", "database_proxy")
        kafka_proxy = FaultProxy(target=("127.0.0.1", ports["broker"]), port=ports["kafka_proxy"])
        kafka_proxy.start()
        stack.callback(kafka_proxy.stop)
        broker = EmbeddedBroker(
            port=ports["broker"], advertised_port=kafka_proxy.port, log_file=var_dir / "broker.log"
        )
        broker.start()
        stack.callback(broker.stop)
        database_url = None
        db_proxy = None
        if backend == "postgresql":
            url, name = create_database(PG_ADMIN_URL, "switchboard_chaos")
            stack.callback(drop_database, PG_ADMIN_URL, name)
            db_proxy = FaultProxy(target=("127.0.0.1", 5432), port=ports["database_proxy"])
            db_proxy.start()
            stack.callback(db_proxy.stop)
            database_url = url.replace("127.0.0.1:5432", f"127.0.0.1:{db_proxy.port}")
        config = var_dir / "chaos-centre.yaml"
        config.write_text(yaml.safe_dump(centre_yaml(plan.agents)))
        settings = Settings.model_validate(
            {
                "kafka": f"127.0.0.1:{kafka_proxy.port}",
                "kafka_is_embedded": True,
                "var_dir": var_dir,
                "database_url": database_url,
                "centre_config": config,
                **{f"{name}_port": ports[name] for name in (*SERVICES, "smtp")},
            }
        )
        centre = Centre(settings, extra_env={"SWITCHBOARD_TRACING": "false"})
        stack.callback(centre.stop)
        centre.start()
        centre.wait_healthy(timeout=120)

        def stall_database() -> Any:
            if db_proxy is not None:
                db_proxy.stall()
                return db_proxy.restore
            return _hold_sqlite_write_locks([var_dir / f"{name}.db" for name in SERVICES])

        centre.kafka_proxy = kafka_proxy  # type: ignore[attr-defined]
        yield centre, stall_database


def _hold_sqlite_write_locks(paths: list[Path]) -> Callable[[], None]:
    """Another process's long writes: every writer of the centre waits on SQLite's lock of its
    own file."""
    connections = [sqlite3.connect(path, timeout=30, isolation_level=None) for path in paths]
    for connection in connections:
        connection.execute("BEGIN IMMEDIATE")

    def release() -> None:
        for connection in connections:
            connection.execute("ROLLBACK")
            connection.close()

    return release


def _recover(centre: Centre, timeout: float = 180.0) -> dict[str, float]:
    """Each service's seconds until its /healthz answered 200 again, restarting the dead."""
    started, healthy = time.monotonic(), dict[str, float]()
    while len(healthy) < len(centre.services) and time.monotonic() - started < timeout:
        assert centre.supervisor is not None
        centre.supervisor.check()
        for name, code in centre.health().items():
            if code == 200 and name not in healthy:
                healthy[name] = round(time.monotonic() - started, 1)
        time.sleep(0.2)
    return healthy


class Load:
    """The channel systems and agents, on an event loop of their own thread. Arrivals stop first;
    the agents work on until the centre has drained."""

    def __init__(self, centre: Centre, plan: Plan) -> None:
        self.centre, self.plan, self.ledger = centre, plan, Ledger()
        self._loop = asyncio.new_event_loop()
        self._arrivals: asyncio.Event | None = None
        self._agents: asyncio.Event | None = None
        self._arrived = threading.Event()
        self._thread = threading.Thread(target=self._main)

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        try:
            self._loop.run_until_complete(self._run())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def stop_arrivals(self) -> None:
        """No more contacts; returns once every one handed in has been answered (or given up)."""
        while self._arrivals is None:
            time.sleep(0.05)
        self._loop.call_soon_threadsafe(self._arrivals.set)
        self._arrived.wait()

    def stop(self) -> None:
        self.stop_arrivals()
        assert self._agents is not None
        self._loop.call_soon_threadsafe(self._agents.set)
        self._thread.join()

    async def _run(self) -> None:
        self._arrivals, self._agents = asyncio.Event(), asyncio.Event()
        credentials = self.centre.credentials
        async with staffed(self.centre.settings, credentials, self.ledger) as (pbx, agents):
            working = [asyncio.create_task(agent.run(self._agents)) for agent in agents]
            await pbx.run(self._arrivals, per_second=self.plan.per_second)
            self._arrived.set()
            await asyncio.gather(*working)


Fault = tuple[str, Callable[[], Callable[[], None] | None]]


def _faults(centre: Centre, plan: Plan, stall: Callable[[], Any]) -> list[Fault]:
    """(name, inject) in order; `inject` returns what ends the fault (None: it ends by itself)."""
    assert centre.supervisor is not None
    processes = centre.supervisor.processes

    def kill(*names: str) -> Callable[[], None]:
        def inject() -> None:
            for name in names:
                processes[name].signal(signal.SIGKILL)

        return inject

    proxy: FaultProxy = centre.kafka_proxy  # type: ignore[attr-defined]

    def cut() -> Callable[[], None]:
        proxy.cut()
        return proxy.restore

    faults: list[Fault] = (
        [(f"kill -9 {name}", kill(name)) for name in SERVICES] if plan.kill_each else []
    )
    faults.append(("kill -9 intake + recording", kill("intake", "recording")))
    if plan.kill_each:
        faults.append(("kill -9 routing + desktop", kill("routing", "desktop")))
    faults.append((f"broker cut {plan.outage:.0f} s", cut))
    faults.append((f"database stalled {plan.outage:.0f} s", stall))
    return faults


def run(
    backend: str,
    *,
    short: bool = False,
    say: Callable[[str], None] = print,
    choose_ports: PortChooser = free_ports,
) -> Report:
    """The drill on `backend`; the test suite passes its own `choose_ports` (its reserved ports)."""
    plan = SHORT if short else FULL
    with (
        tempfile.TemporaryDirectory(prefix=f"chaos-{backend}-") as scratch,
        running(backend, plan, Path(scratch), choose_ports=choose_ports) as (centre, stall),
    ):
        load = Load(centre, plan)
        load.start()
        try:
            time.sleep(plan.warm_up)
            results = []
            for name, inject in _faults(centre, plan, stall):
                say(f"[{backend}] {name}")
                started = time.monotonic()
                end = inject()
                if end is not None:
                    time.sleep(plan.outage)
                    end()
                recovery = _recover(centre)
                results.append(
                    FaultResult(
                        name,
                        round(time.monotonic() - started, 1),
                        load.ledger.server_errors(started, time.monotonic()),
                        recovery,
                    )
                )
                time.sleep(2)
            time.sleep(plan.warm_up)
        finally:
            load.stop_arrivals()
        say(f"[{backend}] no more contacts; draining")
        try:
            report = account(centre, backend, load.ledger)
        finally:
            load.stop()
        report.faults = results
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the short form CI runs")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="the reports as JSON lines")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    passed = True
    for backend in backends:
        report = run(backend, short=args.short)
        print(json.dumps(asdict(report)) if args.json else render(report), flush=True)
        passed = passed and report.passed
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
