"""Recording's wiring on FastStream's in-memory broker: events in any order, any number of times,
give the same record."""

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from structlog.testing import capture_logs

from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.routing import ContactQueued
from switchboard.common.testing import service_under_test
from switchboard.recording import customers, store
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


def _received(contact_id: str, **customer: str) -> Envelope:
    [received, _] = _events(contact_id)
    return received.model_copy(
        update={"payload": received.payload.model_copy(update={"customer": Party(**customer)})}
    )


async def test_one_batchs_contacts_from_one_customer_are_linked_to_one_customer(tmp_path) -> None:
    """Contacts of one batch from the same address make one customer, each identity once; a
    later batch's contact from any of its identities joins it."""
    async with service_under_test(SERVICE, subscriptions, tmp_path) as recording:
        batch = [
            _received("b-1", name="Jordan", email="jordan@example.net"),
            _received("b-2", email="Jordan@Example.net", phone="+61412345678"),
            _received("b-3", name="Sam", email="sam@example.net"),
        ]
        with capture_logs() as logs:
            await recording.broker.publish_batch(
                *(e.to_bytes() for e in batch), topic="contact.received"
            )
        assert [line["event"] for line in logs if line["log_level"] != "info"] == [], "one batch"
        await recording.deliver(_received("b-4", phone="+61412345678"))
        async with await recording.session() as session:
            owner = {
                c.contact_id: c.customer_id
                for c in (await session.exec(select(store.RecordedContact))).all()
            }
            identities = sorted(
                (i.kind, i.value, i.customer_id)
                for i in (await session.exec(select(customers.CustomerIdentity))).all()
            )
            named = {
                c.customer_id: c.name
                for c in (await session.exec(select(customers.RecordedCustomer))).all()
            }
    jordan, sam = owner["b-1"], owner["b-3"]
    assert owner == {"b-1": jordan, "b-2": jordan, "b-3": sam, "b-4": jordan} and jordan != sam
    assert identities == sorted(
        [
            ("email", "jordan@example.net", jordan),
            ("phone", "+61412345678", jordan),
            ("email", "sam@example.net", sam),
        ]
    )
    assert named == {jordan: "Jordan", sam: "Sam"}
