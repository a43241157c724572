"""Escalation's figure: timers fired per second with 1,000,000 scheduled. The due ones are SLA
warnings of real clocks, each fired as the service fires it (its `sla.alert` written to the outbox
and the timer deleted, a batch per transaction); the rest wait in the future, so the index the loop
reads holds a million rows. One process, SQLite."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from switchboard.cli import migrations
from switchboard.common.clock import Clock
from switchboard.common.runtime import build_runtime
from switchboard.common.settings import Settings
from switchboard.escalation import store
from switchboard.escalation.context import Escalation
from switchboard.escalation.timers import Timers

SCHEDULED = 1_000_000
DUE = 20_000
CHUNK = 20_000


async def _fill(settings: Settings, now: datetime) -> None:
    await migrations.upgrade(settings.sqlalchemy_url_for("escalation"))
    runtime = build_runtime("escalation", settings)
    try:
        async with runtime.db.session() as session:
            session.add(
                store.EscalationTenant(tenant_id="acme", timezone="UTC", config={"levels": []})
            )
        for start in range(0, SCHEDULED, CHUNK):
            contacts, clocks, timers = [], [], []
            for n in range(start, min(start + CHUNK, SCHEDULED)):
                due = n < DUE
                fire_at = (
                    now - timedelta(seconds=1)
                    if due
                    else now + timedelta(days=1, minutes=n % 10_000)
                )
                if due:
                    contacts.append(
                        {
                            "contact_id": f"c{n}",
                            "tenant_id": "acme",
                            "correlation_id": f"c{n}",
                            "causation_id": f"c{n}",
                            "level": 0,
                        }
                    )
                clocks.append(
                    {
                        "clock_id": f"k{n}",
                        "contact_id": f"c{n}",
                        "tenant_id": "acme",
                        "kind": "first_response",
                        "within": "4h",
                        "measure": "calendar",
                        "stops_on": ["human_reply"],
                        "started_at": now,
                        "due_at": fire_at,
                        "state": "running",
                        "breaches": 0,
                    }
                )
                timers.append(
                    {"timer_id": f"t{n}", "clock_id": f"k{n}", "fire_at": fire_at, "action": "warn"}
                )
            async with runtime.db.session() as session:
                if contacts:
                    await session.exec(insert(store.WatchedContact), params=contacts)
                await session.exec(insert(store.Clock), params=clocks)
                await session.exec(insert(store.Timer), params=timers)
    finally:
        await runtime.db.dispose()


async def _fire(settings: Settings) -> tuple[int, float]:
    runtime = build_runtime("escalation", settings)
    clock = Clock()
    timers = Timers(runtime, clock, tick=0.25, batch=500)
    runtime.context = Escalation(
        runtime, clock, timers.wake, runtime.tracer_provider.get_tracer("bench")
    )
    try:
        started, fired = time.perf_counter(), 0
        while count := await timers.fire_due():
            fired += count
        return fired, time.perf_counter() - started
    finally:
        await runtime.db.dispose()
        runtime.tracer_provider.shutdown()


def bench_escalation() -> None:
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(var_dir=Path(var))
        now = datetime.now(UTC)
        filled = time.perf_counter()
        asyncio.run(_fill(settings, now))
        filled = time.perf_counter() - filled
        fired, seconds = asyncio.run(_fire(settings))
    print(f"escalation, timers: {SCHEDULED:,} scheduled ({filled:.0f} s to write), {DUE:,} due now")
    print(
        f"  fired         {fired / seconds:8.0f} timers/s   ({fired:,} in {seconds:.1f} s, "
        "each an sla.alert in the outbox; SQLite, one process)"
    )
