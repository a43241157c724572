"""The shared runtime's floor: the CPU one consumed record costs when its handler does nothing, so
before any service's own work. Every service pays it on every message it handles (an email
contact is handled 19 times), so it bounds what the centre can carry whatever its handlers do.

Measured in-process on SQLite and on the local PostgreSQL, through the consumer's real path
(`Delivery.apply`: the envelope read, the transaction and its ledger claim, the CONSUMER span and
its export, the metrics, the canonical log line), at a batch of one record (a centre that keeps
up), ten and thirty (a burst), with tracing on and off. Each case runs in a process of its own,
in alternating rounds, and the median is printed: the machine's speed wanders by a third within
minutes."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiokafka.structs import ConsumerRecord

from switchboard.cli.bench_centre import postgres_answers
from switchboard.cli.chaos import PG_ADMIN_URL
from switchboard.cli.scratch import create_database, drop_database

RECORDS = 3_000
WARM_UP = 300
BATCHES = (1, 10, 30)
ROUNDS = 3


async def _measure(batch: int, database_url: str | None) -> dict[str, float]:
    """µs of CPU per record for the whole path at `batch`, and for its parts one at a time."""
    from switchboard.common import topics
    from switchboard.common.envelope import Envelope
    from switchboard.common.events.desktop import AgentStateChanged
    from switchboard.common.runtime import build_runtime
    from switchboard.common.settings import Settings
    from switchboard.common.subscriptions import Subscriptions

    settings = Settings(var_dir=Path(tempfile.mkdtemp()), database_url=database_url)
    runtime = build_runtime("bench", settings)
    subscriptions = Subscriptions("bench")

    @subscriptions.on(topics.AGENT_STATE)
    async def nothing(_event: Any, _tx: Any) -> None:
        """The handler: does nothing, so what is measured is the runtime's."""

    await runtime.db.create_tables()
    delivery = subscriptions.delivery(runtime)
    topic = topics.AGENT_STATE.name

    def record(offset: int) -> ConsumerRecord[bytes, bytes]:
        change = AgentStateChanged(agent_id=f"agent-{offset}", state="available")
        value = Envelope.first(change, tenant_id="acme", aggregate_id=f"agent-{offset}").to_bytes()
        trace = f"00-{offset:032x}-{offset:016x}-01".encode()  # as its producer's span left it
        headers = [("traceparent", trace)]
        return ConsumerRecord(topic, 0, offset, 0, 0, b"k", value, None, 1, len(value), headers)

    records = [record(n + 1) for n in range(2 * (RECORDS + WARM_UP) + max(BATCHES))]
    model = Envelope[AgentStateChanged]
    events = [model.model_validate_json(r.value) for r in records]
    figures: dict[str, float] = {}

    def spans_exported() -> None:
        """The spans still waiting for the exporter's thread, exported: their CPU is the step's."""
        runtime.tracer_provider.force_flush()

    async def per_record(name: str, step: Callable[[int], Awaitable[object] | object]) -> None:
        for n in range(WARM_UP):
            if asyncio.iscoroutine(done := step(n)):
                await done
        spans_exported()
        started = time.process_time()
        for n in range(WARM_UP, WARM_UP + RECORDS):
            if asyncio.iscoroutine(done := step(n)):
                await done
        spans_exported()
        figures[name] = 1e6 * (time.process_time() - started) / RECORDS

    await per_record(
        "whole path", lambda n: delivery.apply(records[n : n + batch]) if n % batch == 0 else None
    )

    async def transaction(n: int) -> None:
        async with runtime.transaction() as tx:
            fresh = RECORDS + WARM_UP + n  # events the whole path did not claim
            await tx.claim(events[fresh : fresh + batch])

    await per_record("transaction and claim", lambda n: transaction(n) if n % batch == 0 else None)
    await per_record("envelope read", lambda n: model.model_validate_json(records[n].value))

    def span(n: int) -> None:
        with delivery.span(records[n], events[n]):
            pass

    await per_record("span (its export included)", span)
    await per_record("log line", lambda n: delivery.log_line(records[n], "applied", 0.0001))
    await runtime.db.dispose()
    runtime.tracer_provider.shutdown()
    return figures


def _child(batch: int, database_url: str | None) -> None:
    from switchboard.common.logging import configure_logging

    out = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the log lines' stream, for the process' life)
    configure_logging(service="bench")
    print(json.dumps(asyncio.run(_measure(batch, database_url))), file=out, flush=True)


def _run(batch: int, database_url: str | None, *, tracing: bool) -> dict[str, float]:
    env = {**os.environ, "SWITCHBOARD_TRACING": "true" if tracing else "false"}
    command = [sys.executable, "-m", "switchboard.cli.bench_runtime", "--child", str(batch)]
    command += [database_url] if database_url else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def bench_runtime(rounds: int = ROUNDS) -> None:
    for backend in ("sqlite", "postgresql"):
        if backend == "sqlite":
            _floor(backend, None, rounds)
        elif not postgres_answers():
            print("shared runtime's floor, postgresql: skipped (no PostgreSQL at 127.0.0.1:5432)")
        else:
            url, name = create_database(PG_ADMIN_URL, "switchboard_floor")
            try:
                _floor(backend, url, rounds)
            finally:
                drop_database(PG_ADMIN_URL, name)


def _floor(backend: str, database_url: str | None, rounds: int) -> None:
    print(
        f"shared runtime's floor, {backend}: µs of CPU per consumed record, a handler that does "
        f"nothing (in-process, median of {rounds} alternating rounds)"
    )
    runs: dict[tuple[int, bool], list[dict[str, float]]] = {}
    for _ in range(rounds):
        for batch in BATCHES:
            for tracing in (True, False):
                runs.setdefault((batch, tracing), []).append(
                    _run(batch, database_url, tracing=tracing)
                )
    for (batch, tracing), figures in runs.items():
        parts = {name: statistics.median(f[name] for f in figures) for name in figures[0]}
        whole = parts.pop("whole path")
        detail = ", ".join(f"{name} {value:.0f}" for name, value in parts.items())
        label = "on " if tracing else "off"
        print(f"  batch {batch:2d}, tracing {label}: {whole:5.0f} µs a record ({detail})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        bench_runtime()
