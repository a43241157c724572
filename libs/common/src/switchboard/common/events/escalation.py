"""Events the escalation service produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload


class ContactEscalated(Payload):
    """A contact's promise is at risk: routing re-queues it with a new priority or queue."""

    event_type = "contact.escalated"

    reason: str = Field(max_length=500)
    priority: int | None = Field(default=None, ge=1, le=10)
    queue_id: str | None = None
    category: str | None = Field(default=None, max_length=64)
    """Why, as a category (`technical`, `authority`, `complaint`, ...), for an agent's escalation."""
    requested_by: str | None = Field(default=None, max_length=64)
    """The agent who escalated it (told the outcome); none when a breached promise escalated it."""
    level: str | None = Field(default=None, max_length=100)
    """The escalation path's level it moved to (a breach)."""
    reopen: bool = False
    """Queue it again even if it was wrapped up (an overdue follow-up nobody started)."""


ClockKind = Literal[
    "first_response", "resolution", "complaint_acknowledge", "complaint_respond", "follow_up"
]


class SlaAlert(Payload):
    """A promise is nearly due (`warning`) or broken (`breach`); the desktop tells `notify` (and a
    warning the agent holding the contact), unless the reason has gone by then."""

    event_type = "sla.alert"

    clock_id: str
    clock: ClockKind
    stage: Literal["warning", "breach"]
    due_at: datetime
    level: str | None = None
    notify: list[str] = []


class FollowUpDue(Payload):
    """A promised follow-up is due now: offered first to the agent who promised it."""

    event_type = "followup.due"

    follow_up_id: str
    agent_id: str
    due_at: datetime
    channel: str
    note: str | None = None
    grace_until: datetime
    """Not started by then, it is escalated."""
