import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard.recording.domain import ContactFacts, chat_transcript, later_status, merge

RECEIVED = ContactFacts(
    status="received",
    channel="email",
    received_at=datetime(2026, 11, 24, tzinfo=UTC),
    customer_email="a@example.net",
)
QUEUED = ContactFacts(status="queued", queue_id="general")


def test_status_only_moves_forward() -> None:
    assert later_status(None, "received") == "received"
    assert later_status("received", "queued") == "queued"
    assert later_status("queued", "received") == "queued"


def test_any_order_gives_the_same_record() -> None:
    results = []
    for order in itertools.permutations([RECEIVED, QUEUED]):
        record: dict[str, object] = {"contact_id": "k1"}
        for facts in order:
            record = merge(record, facts)
        results.append(record)
    assert results[0] == results[1]
    assert results[0]["status"] == "queued"
    assert results[0]["channel"] == "email" and results[0]["queue_id"] == "general"


def test_a_fact_an_event_does_not_state_is_left_alone() -> None:
    record = merge({"customer_email": "a@example.net", "status": "received"}, QUEUED)
    assert record["customer_email"] == "a@example.net"


@dataclass
class Entry:
    event_type: str
    occurred_at: datetime
    details: dict[str, object]


def test_a_chat_transcript_is_both_sides_in_order() -> None:
    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    entries = [
        Entry("contact.received", at, {}),
        Entry("contact.queued", at, {"queue_id": "general"}),
        Entry("contact.replied", at, {"channel": "chat", "agent_id": "alice", "text": "Hi!"}),
        Entry("chat.message", at, {"text": "My meter is broken"}),
        Entry("contact.replied", at, {"channel": "email", "text": "not the chat"}),
    ]
    lines = chat_transcript("Hello?", entries)
    assert [(line["from"], line["text"]) for line in lines] == [
        ("customer", "Hello?"),
        ("agent", "Hi!"),
        ("customer", "My meter is broken"),
    ]
