import time
import uuid
from datetime import UTC, datetime

from switchboard.common.envelope import Envelope, peek
from switchboard.common.events.escalation import FollowUpDue
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.routing import ContactQueued
from switchboard.common.ids import made_at_ms, uuid7
from switchboard.common.origin import Origin


def _received() -> ContactReceived:
    return ContactReceived(
        channel="email",
        conversation_id="c-1",
        received_at=datetime(2026, 11, 24, tzinfo=UTC),
        destination="help@acme.example",
        external_id="m-1@example.net",
        customer=Party(email="a@example.net"),
    )


def test_uuid7_is_version_7_and_sorts_by_creation() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_uuid7_tells_the_millisecond_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = made_at_ms(str(uuid7()))
    assert made is not None and before <= made <= time.time_ns() // 1_000_000
    assert made_at_ms(str(uuid.uuid4())) is None
    assert made_at_ms("not-an-id") is None


def test_first_event_correlates_to_itself() -> None:
    event = Envelope.first(_received(), tenant_id="acme", aggregate_id="k1", contact_id="k1")
    assert event.event_type == "contact.received"
    assert event.correlation_id == event.event_id
    assert event.causation_id is None


def test_follow_keeps_tenant_contact_and_correlation() -> None:
    first = Envelope.first(_received(), tenant_id="acme", aggregate_id="k1", contact_id="k1")
    queued = first.follow(ContactQueued(queue_id="general", priority=5, reason="default"))
    assert queued.event_type == "contact.queued"
    assert (queued.tenant_id, queued.contact_id, queued.aggregate_id) == ("acme", "k1", "k1")
    assert queued.correlation_id == first.event_id
    assert queued.causation_id == first.event_id
    assert queued.event_id != first.event_id


def test_round_trip_keeps_unknown_fields_from_newer_producers() -> None:
    event = Envelope.first(_received(), tenant_id="acme", aggregate_id="k1")
    data = event.model_dump(mode="json")
    data["payload"]["sentiment"] = "annoyed"
    data["region"] = "ap-southeast-2"
    parsed = Envelope[ContactReceived].model_validate(data)
    again = parsed.model_dump(mode="json")
    assert again["payload"]["sentiment"] == "annoyed"
    assert again["region"] == "ap-southeast-2"
    assert parsed.payload.customer.email == "a@example.net"


def test_peek_reads_envelope_fields_of_anything_without_failing() -> None:
    event = Envelope.first(_received(), tenant_id="acme", aggregate_id="k1", contact_id="k1")
    fields = peek(event.to_bytes())
    assert fields["event_type"] == "contact.received" and fields["contact_id"] == "k1"
    assert "payload" not in fields
    assert peek(b"\xff\x00 not json") == {}
    assert peek(b"[1, 2]") == {}


def test_an_event_emitted_later_continues_the_contacts_chain() -> None:
    """A timer's or an agent's event carries the chain's correlation, names its cause, and is
    about the contact unless it names its own aggregate."""
    origin = Origin("acme", "k-1", "corr-1", "queued-1", None)
    now = datetime.now(UTC)
    due = FollowUpDue(
        follow_up_id="f-1", agent_id="amy", due_at=now, channel="phone", grace_until=now
    )
    event = origin.event(due)
    assert (event.tenant_id, event.aggregate_id, event.contact_id) == ("acme", "k-1", "k-1")
    assert (event.correlation_id, event.causation_id) == ("corr-1", "queued-1")
    assert origin.event(due, aggregate_id="f-1").aggregate_id == "f-1"
