"""Events the agent desktop produces on an agent's behalf."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from switchboard.common.compliance.pii import holds_card_number
from switchboard.common.envelope import Payload

Presence = Literal["available", "break", "offline"]
Outcome = Literal[
    "resolved",
    "unresolved",
    "escalated",
    "follow_up_promised",
    "sale",
    "no_sale",
    "retention_offer_accepted",
]
"""How a contact ended for the customer: `resolved` (at first contact), `escalated` (it could not
be satisfied immediately), `follow_up_promised`, `sale` / `no_sale` (a sales opportunity taken or
not), `retention_offer_accepted`, `unresolved`."""


class AgentStateChanged(Payload):
    """An agent's presence as they (or, for `source: routing`, the ACD) set it."""

    event_type = "agent.state"

    agent_id: str
    state: Presence
    reason: str | None = Field(default=None, max_length=200)
    source: Literal["desktop", "routing", "supervisor"] = "desktop"


class ContactAccepted(Payload):
    """The agent accepted an offer."""

    event_type = "contact.accepted"

    offer_id: str
    agent_id: str


class ContactDeclined(Payload):
    """The agent declined an offer; the contact goes to the next agent."""

    event_type = "contact.declined"

    offer_id: str
    agent_id: str
    reason: str | None = Field(default=None, max_length=200)


class ContactWrapped(Payload):
    """The agent finished the contact's after-contact work; their slot is free again."""

    event_type = "contact.wrapped"

    agent_id: str
    disposition: str = Field(max_length=64)
    outcome: Outcome | None = None
    notes: str | None = Field(default=None, max_length=4000)


class FollowUpPromised(Payload):
    """The agent promised the customer a callback or follow-up at `due_at`; escalation makes it
    `followup.due` then, offered first to the agent who promised it."""

    event_type = "followup.promised"

    follow_up_id: str
    agent_id: str
    due_at: datetime
    channel: Literal["phone", "email", "letter", "fax"]
    note: str | None = Field(default=None, max_length=2000)


class FollowUpDone(Payload):
    """The agent kept a promised follow-up (called or wrote back)."""

    event_type = "followup.done"

    follow_up_id: str
    agent_id: str
    note: str | None = Field(default=None, max_length=2000)


class ComplaintRaised(Payload):
    """The contact is a complaint: it follows the tenant's complaint policy from now on."""

    event_type = "complaint.raised"

    complaint_id: str
    agent_id: str
    category: str = Field(min_length=1, max_length=64)
    summary: str = Field(min_length=1, max_length=4000)


class ImprovementNoted(Payload):
    """A difficulty the agent met, not escalated, that may be an opportunity for continuous
    improvement (a confusing bill, a missing script answer, a process that made the customer wait)."""

    event_type = "improvement.noted"

    improvement_id: str
    agent_id: str
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)


class Site(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    address: str = Field(min_length=1, max_length=400)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TimeWindow(BaseModel):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("the window must end after it starts")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("the window's times need a UTC offset")
        return self


class Customer(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class Payment(BaseModel):
    """How the customer pays: a token from the payment provider and the method, never the card
    number itself (a token that looks like one is refused)."""

    method: Literal["card", "direct_debit", "account", "invoice", "cash"]
    token: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{4,128}$")

    @field_validator("token")
    @classmethod
    def _not_a_card_number(cls, token: str | None) -> str | None:
        if holds_card_number(token or ""):
            raise ValueError("that looks like a card number: send the payment token instead")
        return token


class JobDetails(BaseModel):
    """What the agent asks field staff to do, and where and when."""

    site: Site
    work_type: str = Field(min_length=1, max_length=64)
    skills: list[str] = []
    estimated_minutes: int = Field(gt=0, le=24 * 60)
    window: TimeWindow
    priority: Literal["emergency", "urgent", "normal", "low"] = "normal"
    special_instructions: str | None = Field(default=None, max_length=2000)
    customer: Customer | None = None
    payment: Payment | None = None


class JobRequested(Payload, JobDetails):
    """The agent asked for someone on site; dispatch deploys field staff to it. Keyed by the job."""

    event_type = "job.requested"

    job_id: str
    agent_id: str


class ReplySent(Payload):
    """The agent answered the customer on the contact's channel: an email (sent by the desktop's
    mail relay, threaded by Message-ID), a call or fax (which passes the DNC gate first), a chat
    message (intake puts it in the customer's window) or an SMS (sent once the DNC gate cleared
    it: this event is the SMS sent)."""

    event_type = "contact.replied"

    agent_id: str
    channel: Literal["email", "phone", "fax", "chat", "sms"]
    to: str = Field(max_length=320)
    subject: str | None = Field(default=None, max_length=998)
    text: str = Field(default="", max_length=20000)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = []
    outbound_request_id: str | None = None
    """For a call or fax: the `outbound.requested` it waits on."""
