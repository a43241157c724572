"""Events the escalation service produces."""

from __future__ import annotations

from pydantic import Field

from switchboard.common.envelope import Payload


class ContactEscalated(Payload):
    """A contact's promise is at risk: routing re-queues it with a new priority or queue."""

    event_type = "contact.escalated"

    reason: str = Field(max_length=500)
    priority: int | None = Field(default=None, ge=1, le=10)
    queue_id: str | None = None
