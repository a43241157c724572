"""Events the agent desktop produces on an agent's behalf."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload

Presence = Literal["available", "break", "offline"]


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
    outcome: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=4000)
