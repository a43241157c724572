"""Recording's figures: events recorded per second through the real broker (recording as its own
process, on SQLite and on PostgreSQL), and the KPI query's time over 1,000,000 contacts."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, insert
from sqlmodel import select

from switchboard.cli.centre import Centre
from switchboard.cli.scratch import create_database, drop_database
from switchboard.common.db import Database
from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.routing import ContactQueued
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
EVENTS = 10_000
KPI_CONTACTS = 1_000_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(count: int) -> list[Envelope[ContactReceived] | Envelope[ContactQueued]]:
    events: list[Envelope[ContactReceived] | Envelope[ContactQueued]] = []
    for n in range(count // 2):
        received = Envelope.first(
            ContactReceived(
                channel="email",
                conversation_id=f"bench-conv-{n}",
                received_at=datetime.now(UTC),
                destination="help@acme.example",
                external_id=f"bench-{n}",
                customer=Party(name=f"Customer {n}", email=f"customer{n % 5000}@example.net"),
                subject="My bill",
                text="It is wrong. " * 20,
            ),
            tenant_id="acme",
            aggregate_id=f"bench-{n}",
            contact_id=f"bench-{n}",
        )
        events.append(received)
        events.append(received.follow(ContactQueued(queue_id="general", priority=5, reason="r")))
    return events


async def _produce(
    bootstrap: str, events: list[Envelope[ContactReceived] | Envelope[ContactQueued]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sends = [
            await producer.send(event.event_type, event.to_bytes(), key=event.aggregate_id.encode())
            for event in events
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _recorded(url: str) -> int:
    from switchboard.recording.store import TimelineEntry

    db = Database(url)
    try:
        async with db.reader() as session:
            return int((await session.exec(select(func.count()).select_from(TimelineEntry))).one())
    finally:
        await db.dispose()


def _events_per_second(database_url: str | None, label: str) -> None:
    with tempfile.TemporaryDirectory() as var:
        ports = {
            f"{name}_port": port
            for name, port in free_ports("intake", "routing", "recording", "broker", "smtp").items()
        }
        settings = Settings(var_dir=Path(var), database_url=database_url, **ports)  # type: ignore[arg-type]
        centre = Centre(settings, services=("recording",))
        centre.start()
        try:
            centre.wait_healthy(timeout=90)
            events = _events(EVENTS)
            started = time.perf_counter()
            asyncio.run(_produce(settings.kafka_bootstrap, events))
            deadline = time.monotonic() + 300
            while asyncio.run(_recorded(settings.sqlalchemy_url_for("recording"))) < len(events):
                if time.monotonic() > deadline:
                    print(f"  {label}: not all events recorded in 300 s")
                    return
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
        finally:
            centre.stop()
    print(
        f"  {label:10s} {len(events) / elapsed:8.0f} events/s   ({len(events)} events in {elapsed:.1f} s)"
    )


async def _kpi_time(url: str, label: str) -> None:
    from switchboard.recording import kpis
    from switchboard.recording.store import RecordedContact

    db = Database(url)
    try:
        await db.create_tables()
        rng = random.Random(3)
        started = time.perf_counter()
        for start in range(0, KPI_CONTACTS, 20_000):
            rows = [_contact_row(n, rng) for n in range(start, min(start + 20_000, KPI_CONTACTS))]
            async with db.session() as session:
                await session.execute(insert(RecordedContact), rows)  # executemany
        filled = time.perf_counter() - started
        timings = {}
        for name, days in (("a day", 1), ("a month", 30), ("a year", 365)):
            period = kpis.Period("acme", T0, T0 + timedelta(days=days))
            async with db.reader() as session:
                tick = time.perf_counter()
                figures = await kpis.compute(session, period)
                timings[name] = (time.perf_counter() - tick, figures["offered"])
    finally:
        await db.dispose()
    print(
        f"  {label:10s} filled in {filled:.0f} s; "
        + "; ".join(
            f"{name} ({offered} offered) {seconds * 1000:.0f} ms"
            for name, (seconds, offered) in timings.items()
        )
    )


def _contact_row(n: int, rng: random.Random) -> dict[str, object]:
    received = T0 + timedelta(seconds=n * 31.536)  # a million contacts over a year
    answered = rng.random() < 0.85
    waited = rng.expovariate(1 / 25)
    return {
        "contact_id": f"k-{n}",
        "tenant_id": "acme",
        "status": "wrapped" if answered else "abandoned",
        "channel": rng.choice(("email", "phone", "letter", "fax")),
        "conversation_id": f"conv-{n // 2}",
        "received_at": received,
        "queue_id": rng.choice(("general", "faults", "billing")),
        "flags": [],
        "masked": [],
        "attachments": [],
        "assigned_at": received + timedelta(seconds=waited) if answered else None,
        "wrapped_at": received + timedelta(seconds=waited + 300) if answered else None,
        "abandoned_at": None if answered else received + timedelta(seconds=waited),
        "waited_seconds": waited if answered else None,
        "handle_seconds": rng.uniform(60, 900) if answered else None,
        "abandoned_after_seconds": None if answered else waited,
        "service_level_seconds": 20,
        "outcome": rng.choice(("resolved", "resolved", "sale", "no_sale", None))
        if answered
        else None,
        "escalated": rng.random() < 0.05,
    }


def bench_recording() -> None:
    import switchboard.recording.app  # noqa: F401 - every recording table, for create_tables

    print(f"recording: {EVENTS} events through the embedded broker, recording as its own process")
    _events_per_second(None, "SQLite")
    try:
        url, name = create_database(PG_ADMIN, "switchboard_bench")
    except OSError as error:
        print(f"  PostgreSQL: not reachable at {PG_ADMIN} ({error})")
        return
    try:
        _events_per_second(url, "PostgreSQL")
    finally:
        drop_database(PG_ADMIN, name)
    print(f"recording: the KPI query over {KPI_CONTACTS:,} contacts (one aggregate in SQL)")
    with tempfile.TemporaryDirectory() as var:
        asyncio.run(_kpi_time(f"sqlite+aiosqlite:///{var}/kpis.db", "SQLite"))
    url, name = create_database(PG_ADMIN, "switchboard_kpis")
    try:
        asyncio.run(_kpi_time(url.replace("postgresql://", "postgresql+asyncpg://"), "PostgreSQL"))
    finally:
        drop_database(PG_ADMIN, name)
