"""Recording's rules, free of I/O: how an event changes a contact's record.

Events for one contact can arrive in any order (they travel on different topics), so a status only
moves forward: applying `contact.received` after `contact.queued` fills in the contact's details
without taking its status back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from switchboard.common.envelope import aware

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
    offered_at: datetime | None = None
    assigned_at: datetime | None = None
    wrapped_at: datetime | None = None
    waited_seconds: float | None = None
    outcome: str | None = None
    escalated: bool | None = None
    service_level_seconds: int | None = None
    customer_id: str | None = None
    agent_assigned_at: datetime | None = None
    """When the current agent was assigned: a contact escalated to another agent is theirs from
    their later assignment on, whichever assignment's event is applied last."""
    assignments: int | None = None
    """Added, not set: how many times the contact was assigned (more than once: a transfer)."""


EARLIEST = {"offered_at": ("offered_at",), "assigned_at": ("assigned_at", "waited_seconds")}
"""Facts of the first time: a later re-offer, or the assignment after an escalation, does not move
them (the wait that counts for the speed of answer is the first)."""
LATEST = {
    "wrapped_at": ("wrapped_at", "disposition", "outcome"),
    "agent_assigned_at": ("agent_assigned_at", "agent_id"),
}
"""Facts that belong to the last time something happened: an earlier wrap-up (the agent who
escalated) applied after a later one (the agent who resolved it) does not overwrite it."""
COUNTED = ("assignments",)


def later_status(current: str | None, new: str | None) -> str | None:
    if new is None or current is None:
        return current or new
    return new if STATUS_RANK.get(new, 0) >= STATUS_RANK.get(current, 0) else current


def merge(record: dict[str, Any], facts: ContactFacts) -> dict[str, Any]:
    """The record after `facts`: known fields filled in, status never moved back."""
    merged = dict(record)
    stale = _superseded(merged, facts, EARLIEST, later_wins=False) | _superseded(
        merged, facts, LATEST, later_wins=True
    )
    for name, value in vars(facts).items():
        if name == "status" or value is None or name in stale:
            continue
        if name in COUNTED:
            value = (merged.get(name) or 0) + value
        merged[name] = value
    merged["status"] = later_status(record.get("status"), facts.status) or "received"
    merged.update(_durations(merged))
    return merged


def _superseded(
    record: dict[str, Any],
    facts: ContactFacts,
    groups: dict[str, tuple[str, ...]],
    *,
    later_wins: bool,
) -> set[str]:
    """The fields of `facts` that lose to what the record already holds."""
    lost: set[str] = set()
    for moment, fields in groups.items():
        new, held = getattr(facts, moment), record.get(moment)
        if new is None or held is None or aware(new) == aware(held):
            continue
        if (aware(new) < aware(held)) == later_wins:
            lost.update(fields)
    return lost


def _durations(record: dict[str, Any]) -> dict[str, float | None]:
    """Durations the KPIs need, kept as numbers so that SQL aggregates them the same way on every
    database, once both of their ends are known (in whatever order they arrived)."""

    def between(start: str, end: str) -> float | None:
        if record.get(start) is None or record.get(end) is None:
            return None
        return round((aware(record[end]) - aware(record[start])).total_seconds(), 3)

    return {
        "handle_seconds": between("assigned_at", "wrapped_at"),
        "abandoned_after_seconds": between("received_at", "abandoned_at"),
    }


class Said(Protocol):
    event_type: str
    occurred_at: datetime
    details: dict[str, Any]


def chat_transcript(first_text: str | None, entries: Sequence[Said]) -> list[dict[str, Any]]:
    """A chat in order, both sides: the customer's first message (the contact's text), their later
    messages (`chat.message`) and the agents' answers (`contact.replied`), each with its time."""
    lines: list[dict[str, Any]] = []
    for entry in entries:
        if entry.event_type == "contact.received" and first_text:
            lines.append({"from": "customer", "text": first_text, "at": entry.occurred_at})
        elif entry.event_type == "chat.message":
            lines.append(
                {"from": "customer", "text": entry.details.get("text", ""), "at": entry.occurred_at}
            )
        elif entry.event_type == "contact.replied" and entry.details.get("channel") == "chat":
            lines.append(
                {
                    "from": "agent",
                    "agent_id": entry.details.get("agent_id"),
                    "text": entry.details.get("text", ""),
                    "at": entry.occurred_at,
                }
            )
    return lines
