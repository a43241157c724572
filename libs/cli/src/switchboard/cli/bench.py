"""`make bench`: figures, not assertions. Runs a centre on free ports (embedded broker, SQLite in a
temporary folder) and measures it from outside, on loopback, stopping by itself."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from switchboard.cli.bench_centre import bench_centre, percentile
from switchboard.cli.bench_dispatch import bench_dispatch
from switchboard.cli.bench_escalation import bench_escalation
from switchboard.cli.bench_recording import bench_recording
from switchboard.cli.bench_routing import bench_routing
from switchboard.cli.bench_runtime import bench_runtime
from switchboard.cli.bench_stack import bench_stack
from switchboard.cli.bench_traffic import Mail
from switchboard.cli.centre import Centre
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings

CLIENTS = 50
DURATION_SECONDS = 12.0
ROUNDS = 3


async def _intake_emails(centre: Centre, duration: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    async def client(mail: Mail) -> None:
        while time.monotonic() < deadline:
            contact, sent, answered = await mail.post()
            if contact is not None:
                latencies.append(answered - sent)

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        mail = Mail(centre, http)
        await asyncio.gather(*(client(mail) for _ in range(CLIENTS)))
    return len(latencies), latencies, sum(mail.refusals.values())


def _intake_run(duration: float, *, tracing: bool) -> tuple[int, list[float], int]:
    with tempfile.TemporaryDirectory() as var:
        ports = {
            f"{name}_port": port
            for name, port in free_ports("intake", "routing", "recording", "broker", "smtp").items()
        }
        settings = Settings(var_dir=Path(var), **ports)  # type: ignore[arg-type]
        env = {"SWITCHBOARD_TRACING": "true" if tracing else "false"}
        centre = Centre(settings, services=("intake",), extra_env=env)
        centre.start()
        try:
            centre.wait_healthy(timeout=90)
            asyncio.run(_intake_emails(centre, 2.0))  # warm-up
            return asyncio.run(_intake_emails(centre, duration))
        finally:
            centre.stop()


def bench_intake(duration: float = DURATION_SECONDS, rounds: int = ROUNDS) -> None:
    """Intake's throughput with tracing on (every request and publish a span, exported in batches)
    and off, alternating for a few rounds in this run: on a noisy machine one pair of runs can
    differ by more than tracing costs, so the cost is taken from the medians."""
    print(
        f"intake, emails: {CLIENTS} concurrent clients, {rounds} rounds of {duration:.0f} s with "
        "tracing on and off alternately (SQLite, embedded broker)"
    )
    rates: dict[bool, list[float]] = {True: [], False: []}
    for n in range(rounds):
        for tracing in (True, False):
            accepted, latencies, failures = _intake_run(duration, tracing=tracing)
            rates[tracing].append(accepted / duration)
            label = "tracing on " if tracing else "tracing off"
            print(
                f"  round {n + 1} {label} {accepted / duration:8.1f} contacts/s ({accepted} "
                f"accepted, {failures} refused)   ack p50 {percentile(latencies, 0.5) * 1000:7.1f} ms   "
                f"p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
            )
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    print(
        f"  medians: on {on:.1f}, off {off:.1f} contacts/s; tracing costs "
        f"{100 * (1 - on / off):.1f} % of throughput"
    )


def main() -> None:
    bench_stack()
    bench_runtime()
    bench_centre()
    bench_routing()
    bench_intake()
    bench_escalation()
    bench_dispatch()
    bench_recording()


if __name__ == "__main__":
    main()
