"""The whole centre's end-to-end figures, measured from outside as a user would: HTTP in, Kafka and
the API out, with `switchboard up`'s settings (tracing on, INFO logs) on free ports.

Per backend (the embedded default, SQLite; and the local PostgreSQL when it answers):
- idle CPU: every service process over 30 s with nothing arriving and nobody signed in;
- agents sign in through the desktop API, go available and work over their event streams (in a
  process of their own): accept every offer, wrap up each contact a moment after it is assigned;
- a burst of signed emails from 50 clients: contacts recorded per second (recording's count of
  applied `contact.received`, read from its /metrics), and intake's 202 p50/p99;
- fixed-rate runs (each email posted on schedule, whatever the answers): intake's 202 p50/p99 and
  202 → `agent.offered` p50/p99, the offer seen on Kafka;
- a raw aiokafka three-hop pipeline on the same broker (switchboard.cli.bench_pipeline), and the
  ratio of the centre's recorded contacts/s to its messages/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from switchboard.cli.bench_pipeline import raw_pipeline
from switchboard.cli.bench_traffic import Mail, Offers, agents_at_work, applied_count, worked_off
from switchboard.cli.centre import Centre
from switchboard.cli.chaos import PG_ADMIN_URL, centre_yaml
from switchboard.cli.scratch import create_database, drop_database
from switchboard.cli.services import SERVICES
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings

AGENTS = 200
EMAIL_CAPACITY = 10
BURST = 2_000
BURST_CLIENTS = 50
RATES = (50.0, 100.0)
RATE_SECONDS = 30.0
IDLE_SECONDS = 30.0
RATE_POOLS, RATE_CONNECTIONS = 8, 50
"""The fixed-rate runs post through eight clients of 50 connections each, not one of 400, so that
posting does not slow itself down as answers slow: httpcore scans every connection of a pool for
every request waiting (`chaos_load.desk_client`, where one pool held the agents' process at a
whole core)."""
BURST_POOL_CONNECTIONS = 5
"""The burst's senders share clients of five connections each: a post cost the sending process
3.1 to 3.9 ms of CPU through one client of 50 connections and 1.0 ms through clients of five
(`bench_stack`), CPU the centre itself lacked on two cores."""
DRAIN_SECONDS = 240.0
"""The longest a burst may take to be recorded before the figure is taken from what was."""


@dataclass
class RateRun:
    rate: float
    sent: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    offers: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each process spent from the run's first email until its contacts were worked
    off: at a rate the centre keeps up with, what a contact costs when nothing queues."""
    load_cpu: float = 0.0
    """CPU seconds the load spent meanwhile: the senders' process and the agents'."""


@dataclass
class Figures:
    backend: str
    idle_cpu: dict[str, float] = field(default_factory=dict)
    burst_recorded: int = 0
    burst_seconds: float = 0.0
    burst_acks: list[float] = field(default_factory=list)
    burst_refused: dict[str, int] = field(default_factory=dict)
    burst_worked_off: float = 0.0
    """Seconds from the burst's last contact recorded until the agents had wrapped up them all."""
    burst_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each service spent from the burst's first email until the agents had wrapped
    up every contact of it: the whole life of the burst's contacts, however far routing and the
    desktop were behind recording."""
    burst_load_cpu: float = 0.0
    """CPU seconds the load spent over the same time: the senders' process and the agents'."""
    burst_batching: dict[str, float] = field(default_factory=dict)
    """Messages per consumed batch, by service, over the burst: what a batch's fixed costs (its
    transaction, its ledger claim, its offset commit) are shared by."""
    runs: list[RateRun] = field(default_factory=list)
    raw_per_second: float = 0.0


# -- the centre -------------------------------------------------------------------------------


@contextmanager
def _running(backend: str, var_dir: Path) -> Iterator[Centre]:
    with ExitStack() as stack:
        database_url = None
        if backend == "postgresql":
            database_url, name = create_database(PG_ADMIN_URL, "switchboard_bench")
            stack.callback(drop_database, PG_ADMIN_URL, name)
        config = centre_yaml(AGENTS)
        for agent in config["agents"]:
            agent["capacity"] = {"phone": 1, "email": EMAIL_CAPACITY}
        (var_dir / "bench-centre.yaml").write_text(yaml.safe_dump(config))
        ports = free_ports(*SERVICES, "broker", "smtp")
        settings = Settings.model_validate(
            {
                "var_dir": var_dir,
                "database_url": database_url,
                "centre_config": var_dir / "bench-centre.yaml",
                **{f"{name}_port": port for name, port in ports.items()},
            }
        )
        centre = Centre(settings)
        stack.callback(centre.stop)
        centre.start()
        centre.wait_healthy(timeout=180)
        yield centre


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(centre: Centre) -> dict[str, float]:
    """CPU seconds used so far by each service process (and the embedded broker)."""
    assert centre.supervisor is not None
    pids = {n: p.pid for n, p in centre.supervisor.processes.items() if p.pid is not None}
    if centre.broker is not None and centre.broker.process is not None:
        pids["(broker)"] = centre.broker.process.pid
    return {n: cpu_seconds(pid) for n, pid in pids.items()}


_HANDLED = re.compile(r"^switchboard_messages_handled_total\{.*\} (\S+)$", re.MULTILINE)
_BATCHES = re.compile(r"^switchboard_batch_seconds_count (\S+)$", re.MULTILINE)


def _load_cpu(agents_pid: int) -> float:
    """CPU seconds used so far by the load: this process (the senders, the offers' consumer) and
    the agents' process."""
    return time.process_time() + cpu_seconds(agents_pid)


def _consumed(centre: Centre) -> dict[str, tuple[float, float]]:
    """(messages handled, batches applied) so far, by consuming service (from its /metrics)."""
    counts = {}
    for name in centre.services:
        text = httpx.get(centre.settings.base_url(name) + "/metrics", timeout=10).text
        batches = _BATCHES.search(text)
        if batches is not None:
            counts[name] = (sum(float(n) for n in _HANDLED.findall(text)), float(batches[1]))
    return counts


def _per_batch(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, float]:
    return {
        name: (handled - before[name][0]) / (batches - before[name][1])
        for name, (handled, batches) in after.items()
        if name in before and batches > before[name][1]
    }


def _idle_cpu(centre: Centre, seconds: float) -> dict[str, float]:
    """Per service, the percentage of one core used over `seconds` with nothing to do."""
    before = _cpu(centre)
    time.sleep(seconds)
    return {n: 100 * (used - before[n]) / seconds for n, used in _cpu(centre).items()}


# -- the outside world ------------------------------------------------------------------------


async def _burst(centre: Centre, figures: Figures) -> None:
    limits = httpx.Limits(max_connections=BURST_POOL_CONNECTIONS)
    async with contextlib.AsyncExitStack() as clients:
        pools = [
            await clients.enter_async_context(httpx.AsyncClient(timeout=120, limits=limits))
            for _ in range(BURST_CLIENTS // BURST_POOL_CONNECTIONS)
        ]
        client, mail = pools[0], Mail(centre, *pools)
        before = await applied_count(client, centre)
        started = time.monotonic()
        queue = iter(range(BURST))

        async def sender() -> None:
            for _ in queue:
                contact, sent, answered = await mail.post()
                if contact is not None:
                    figures.burst_acks.append(answered - sent)

        await asyncio.gather(*(sender() for _ in range(BURST_CLIENTS)))
        figures.burst_refused = mail.refusals
        accepted = len(figures.burst_acks)
        recorded = 0
        for _ in range(int(DRAIN_SECONDS / 0.2)):
            recorded = await applied_count(client, centre) - before
            if recorded >= accepted or time.monotonic() - started > DRAIN_SECONDS:
                break
            await asyncio.sleep(0.2)
        figures.burst_recorded = recorded
        figures.burst_seconds = time.monotonic() - started


async def _fixed_rate(centre: Centre, rate: float, seconds: float) -> RateRun:
    run = RateRun(rate)
    offers = Offers(centre.settings.kafka_bootstrap)
    await offers.start()
    answered: dict[str, float] = {}
    limits = httpx.Limits(
        max_connections=RATE_CONNECTIONS, max_keepalive_connections=RATE_CONNECTIONS
    )
    try:
        async with contextlib.AsyncExitStack() as clients:
            pools = [
                await clients.enter_async_context(httpx.AsyncClient(timeout=60, limits=limits))
                for _ in range(RATE_POOLS)
            ]
            mail = Mail(centre, *pools)

            async def one() -> None:
                contact, sent, at = await mail.post()
                if contact is None:
                    return
                run.acks.append(at - sent)
                answered[contact] = at

            tasks = []
            start = time.monotonic()
            for n in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)
            run.sent, run.refused = len(tasks), mail.refusals
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(offers.seen(set(answered)), 60)
    finally:
        await offers.stop()
    run.offers = [offers.first[c] - at for c, at in answered.items() if c in offers.first]
    return run


def measure(backend: str) -> Figures:
    figures = Figures(backend)
    with tempfile.TemporaryDirectory() as var, _running(backend, Path(var)) as centre:
        time.sleep(5.0)  # start-up work settles
        figures.idle_cpu = _idle_cpu(centre, IDLE_SECONDS)
        spawn = multiprocessing.get_context("spawn")
        ready, stop = spawn.Event(), spawn.Event()
        settings = centre.settings.model_dump(mode="json")
        agents = spawn.Process(
            target=agents_at_work, args=(settings, centre.credentials, ready, stop)
        )
        agents.start()
        try:
            if not ready.wait(120):
                raise RuntimeError("the agents could not sign in and go available")
            time.sleep(3.0)  # routing has taken in every agent's state
            asyncio.run(_fixed_rate(centre, 5.0, 2.0))  # warm-up
            assert agents.pid is not None
            if BURST:
                before, consumed = _cpu(centre), _consumed(centre)
                load_before = _load_cpu(agents.pid)
                asyncio.run(_burst(centre, figures))
                figures.burst_worked_off = asyncio.run(worked_off(centre))
                figures.burst_cpu = {n: used - before[n] for n, used in _cpu(centre).items()}
                figures.burst_load_cpu = _load_cpu(agents.pid) - load_before
                figures.burst_batching = _per_batch(consumed, _consumed(centre))
            for rate in RATES:
                before, load_before = _cpu(centre), _load_cpu(agents.pid)
                run = asyncio.run(_fixed_rate(centre, rate, RATE_SECONDS))
                asyncio.run(worked_off(centre))
                run.cpu = {n: used - before[n] for n, used in _cpu(centre).items()}
                run.load_cpu = _load_cpu(agents.pid) - load_before
                figures.runs.append(run)
        finally:
            stop.set()
            agents.join(30)
            if agents.is_alive():
                agents.kill()
        figures.raw_per_second = raw_pipeline(centre.settings.kafka_bootstrap)
    return figures


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0.5, 0.99, ...) of `values`; NaN with fewer than two."""
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def _p(values: list[float], q: float) -> str:
    """The quantile in milliseconds, for a table."""
    return f"{percentile(values, q) * 1000:7.1f}"


def _refusals(refusals: dict[str, int]) -> str:
    total = sum(refusals.values())
    causes = ", ".join(f"{why}: {count}" for why, count in sorted(refusals.items()))
    return f"{total} refused" + (f" ({causes})" if causes else "")


def _per_contact(cpu: dict[str, float], contacts: int) -> str:
    each = ", ".join(f"{n} {1000 * v / max(1, contacts):.1f}" for n, v in sorted(cpu.items()))
    return f"{each} (total {1000 * sum(cpu.values()) / max(1, contacts):.1f})"


def _costs(cpu: dict[str, float], load_cpu: float, contacts: int) -> str:
    """What each process and the load spent on a contact over its whole life."""
    load = 1000 * load_cpu / max(1, contacts)
    return (
        f"CPU ms per contact from arrival to wrap-up: {_per_contact(cpu, contacts)}; "
        f"the load's (senders, agents) {load:.1f}"
    )


def render(figures: Figures) -> str:
    idle = sum(v for n, v in figures.idle_cpu.items() if n != "(broker)")
    rate = figures.burst_recorded / figures.burst_seconds if figures.burst_seconds else 0.0
    by_service = ", ".join(f"{n} {v:.1f}" for n, v in sorted(figures.idle_cpu.items()))
    lines = [
        f"whole centre, {figures.backend}: {AGENTS} agents available (email capacity "
        f"{EMAIL_CAPACITY}), tracing on, INFO logs",
        f"  idle CPU over {IDLE_SECONDS:.0f} s: {idle:.1f} % of one core for the services "
        f"({by_service})",
    ]
    if BURST:
        lines += [
            f"  burst of {BURST} emails, {BURST_CLIENTS} clients: {figures.burst_recorded} recorded "
            f"in {figures.burst_seconds:.1f} s = {rate:.1f} contacts/s; "
            f"{_refusals(figures.burst_refused)}; 202 p50 {_p(figures.burst_acks, 0.5)} ms p99 "
            f"{_p(figures.burst_acks, 0.99)} ms",
            f"    the agents had wrapped them all up {figures.burst_worked_off:.0f} s later; "
            + _costs(figures.burst_cpu, figures.burst_load_cpu, figures.burst_recorded),
            "    messages per consumed batch: "
            + ", ".join(f"{n} {v:.1f}" for n, v in sorted(figures.burst_batching.items())),
        ]
    for run in figures.runs:
        lines.append(
            f"  {run.rate:.0f} emails/s for {RATE_SECONDS:.0f} s: {run.sent} sent, "
            f"{_refusals(run.refused)}; 202 p50 {_p(run.acks, 0.5)} ms p99 {_p(run.acks, 0.99)} ms; 202 → offer "
            f"p50 {_p(run.offers, 0.5)} ms p99 {_p(run.offers, 0.99)} ms "
            f"({len(run.offers)} of {len(run.acks)} offered within 60 s)"
        )
        lines.append("    " + _costs(run.cpu, run.load_cpu, len(run.acks)))
    ratio = (  # the burst's rate against the pipeline's: no burst, no ratio
        f"; centre ÷ raw = {rate / figures.raw_per_second:.4f}"
        if BURST and figures.raw_per_second
        else ""
    )
    lines.append(
        f"  raw aiokafka 3-hop pipeline, same broker: {figures.raw_per_second:,.0f} msg/s{ratio}"
    )
    return "\n".join(lines)


def postgres_answers() -> bool:
    """Whether the local PostgreSQL answers (the benches skip it when it does not)."""
    try:
        drop_database(PG_ADMIN_URL, "switchboard_bench_probe")
    except Exception:
        return False
    return True


def bench_centre(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> None:
    for backend in backends:
        if backend == "postgresql" and not postgres_answers():
            print("whole centre, postgresql: skipped (no PostgreSQL at 127.0.0.1:5432)")
            continue
        print(render(measure(backend)), flush=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The whole centre's end-to-end figures.")
    parser.add_argument("backends", nargs="*", choices=["sqlite", "postgresql"])
    parser.add_argument("--rates", type=float, nargs="*", default=list(RATES))
    parser.add_argument("--seconds", type=float, default=RATE_SECONDS)
    parser.add_argument("--burst", type=int, default=BURST, help="emails in the burst; 0: none")
    args = parser.parse_args()
    RATES, RATE_SECONDS, BURST = tuple(args.rates), args.seconds, args.burst
    bench_centre(tuple(args.backends) or ("sqlite", "postgresql"))
