"""Events routing produces."""

from __future__ import annotations

from switchboard.common.envelope import Payload


class ContactQueued(Payload):
    """A contact was placed in a queue to wait for an agent."""

    event_type = "contact.queued"

    queue_id: str
    priority: int
    reason: str


class ContactNotRouted(Payload):
    """A contact that must not reach an agent (an auto-reply, bulk mail): recorded, never offered."""

    event_type = "contact.not_routed"

    reason: str
