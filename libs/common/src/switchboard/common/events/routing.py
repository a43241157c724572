"""Events routing produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from switchboard.common.envelope import Payload


class ContactQueued(Payload):
    """A contact was placed in a queue to wait for an agent."""

    event_type = "contact.queued"

    queue_id: str
    priority: int
    reason: str
    service_level_seconds: int | None = None
    """The queue's answer-time target, so the record can judge the contact against it."""
    channel: str | None = None
    """The contact's channel, for the promises that depend on it (escalation's SLA policies)."""


class ContactNotRouted(Payload):
    """A contact that must not reach an agent (an auto-reply, bulk mail): recorded, never offered."""

    event_type = "contact.not_routed"

    reason: str


class Candidate(BaseModel):
    agent_id: str
    proficiency: int
    idle_seconds: float


class OfferReason(BaseModel):
    """Why this agent: the step and rule in force, who else could have taken it, why the winner won."""

    queue_id: str
    rule: str
    step: str
    considered: list[Candidate]
    why: str


class AgentOffered(Payload):
    """A contact is offered to one agent until `expires_at`; keyed by the agent."""

    event_type = "agent.offered"

    offer_id: str
    agent_id: str
    queue_id: str
    channel: str
    priority: int
    expires_at: datetime
    timeout_seconds: int
    reason: OfferReason


class OfferWithdrawn(Payload):
    """An offer is no longer open (timed out, declined, the caller hung up, re-queued)."""

    event_type = "agent.offer_withdrawn"

    offer_id: str
    agent_id: str
    reason: Literal[
        "timed_out",
        "declined",
        "abandoned",
        "answered_at_pbx",
        "ended",
        "escalated",
        "agent_unavailable",
        "not_connected",
    ]
    """`answered_at_pbx` and `ended`: the call was answered or ended at the PBX while it waited;
    `not_connected`: accepted, but the platform could not bridge the call to the agent."""


class ContactAssigned(Payload):
    """An agent accepted the contact: it is theirs until wrapped."""

    event_type = "contact.assigned"

    offer_id: str
    agent_id: str
    queue_id: str
    waited_seconds: float


class QueueStatistics(Payload):
    """A queue's real-time statistics; keyed by `<tenant>/<queue>`."""

    event_type = "queue.stats"

    queue_id: str
    waiting: int
    longest_wait_seconds: float
    agents_available: int
    agents_on_contact: int
    service_level_15m: float | None
    service_level_30m: float | None
    average_speed_of_answer_seconds: float | None
    abandonment_rate: float | None


class SupervisorAlert(Payload):
    """Something a supervisor must know about now; keyed by the tenant."""

    event_type = "supervisor.alert"

    kind: Literal["missed_offers", "out_of_adherence", "coaching_follow_up"]
    agent_id: str
    message: str
