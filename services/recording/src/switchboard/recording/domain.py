"""Recording's rules, free of I/O: how an event changes a contact's record.

Events for one contact can arrive in any order (they travel on different topics), so a status only
moves forward: applying `contact.received` after `contact.queued` fills in the contact's details
without taking its status back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATUS_RANK = {
    "received": 0,
    "queued": 1,
    "not_routed": 1,
    "offered": 2,
    "assigned": 3,
    "answered": 3,
    "abandoned": 4,
    "ended": 5,
    "wrapped": 6,
}


@dataclass(frozen=True)
class ContactFacts:
    """What one event says about a contact; None means "this event does not say"."""

    status: str | None
    """None: this event does not move the contact's status (a voicemail, a callback request)."""
    channel: str | None = None
    conversation_id: str | None = None
    received_at: datetime | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    subject: str | None = None
    text: str | None = None
    queue_id: str | None = None
    not_routed_reason: str | None = None
    agent_id: str | None = None
    disposition: str | None = None
    flags: list[str] | None = None
    masked: list[str] | None = None
    attachments: list[dict[str, Any]] | None = None
    answered_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None


def later_status(current: str | None, new: str | None) -> str | None:
    if new is None or current is None:
        return current or new
    return new if STATUS_RANK.get(new, 0) >= STATUS_RANK.get(current, 0) else current


def merge(record: dict[str, Any], facts: ContactFacts) -> dict[str, Any]:
    """The record after `facts`: known fields filled in, status never moved back."""
    merged = dict(record)
    for name, value in vars(facts).items():
        if name == "status" or value is None:
            continue
        merged[name] = value
    merged["status"] = later_status(record.get("status"), facts.status) or "received"
    return merged
