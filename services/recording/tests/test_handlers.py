"""Recording's wiring on FastStream's in-memory broker: events in any order, any number of times,
give the same record."""

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.routing import ContactQueued
from switchboard.common.testing import service_under_test
from switchboard.recording import store
from switchboard.recording.handlers import SERVICE, subscriptions

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _events(contact_id: str) -> list[Envelope]:
    received = Envelope.first(
        ContactReceived(
            channel="email",
            conversation_id=f"conv-{contact_id}",
            received_at=T0,
            destination="help@acme.example",
            external_id=f"{contact_id}@x",
            customer=Party(name="Jordan", email="jordan@example.net"),
            subject="Bill",
            text="Too high",
        ),
        tenant_id="acme",
        aggregate_id=contact_id,
        contact_id=contact_id,
        occurred_at=T0,
    )
    queued = received.follow(
        ContactQueued(queue_id="general", priority=5, reason="default"),
        occurred_at=T0 + timedelta(seconds=1),
    )
    return [received, queued]


async def _snapshot(recording) -> tuple[list[dict], list[tuple]]:
    async with await recording.session() as session:
        contacts = sorted(
            (c.model_dump() for c in (await session.exec(select(store.RecordedContact))).all()),
            key=lambda c: c["contact_id"],
        )
        timeline = sorted(
            (e.contact_id, e.event_type, e.event_id)
            for e in (await session.exec(select(store.TimelineEntry))).all()
        )
    return contacts, timeline


async def test_duplicated_and_shuffled_events_give_the_same_record(tmp_path) -> None:
    events = [e for n in range(5) for e in _events(f"k-{n}")]
    async with service_under_test(SERVICE, subscriptions, tmp_path / "in-order") as recording:
        for event in events:
            await recording.deliver(event)
        expected = await _snapshot(recording)

    shuffled = events * 2
    random.Random(7).shuffle(shuffled)
    async with service_under_test(SERVICE, subscriptions, tmp_path / "shuffled") as recording:
        for event in shuffled:
            await recording.deliver(event)
        assert await _snapshot(recording) == expected

    contacts, timeline = expected
    assert len(contacts) == 5 and len(timeline) == 10
    assert {c["status"] for c in contacts} == {"queued"}
    assert {c["channel"] for c in contacts} == {"email"}
