"""Events of the conversational channels and of call control: web chat messages and receipts, a
walk-in logged at the desk, transfers between agents, and the commands the centre gives the
telephony platform (route a call to an agent, dial a callback, consult, conference, monitor,
whisper, barge) with their outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload
from switchboard.common.events.intake import Party


class ChatMessage(Payload):
    """A customer's message in a web chat, stored by intake before it is published; the agent's
    answers are `contact.replied` with channel `chat`. Keyed by the chat's contact."""

    event_type = "chat.message"

    session_id: str
    seq: int = Field(ge=1)
    text: str = Field(max_length=4000)
    at: datetime


class ChatActivity(Payload):
    """What a chat's other side sees without a message: typing, a message delivered to the
    customer's browser, the customer gone or back."""

    event_type = "chat.activity"

    session_id: str | None = None
    """The customer's chat; an agent's activity names only the contact."""
    kind: Literal["typing", "delivered", "left", "resumed", "ended"]
    by: Literal["customer", "agent"]
    seq: int | None = None
    """For `delivered`: the message delivered."""
    agent_id: str | None = None


class WalkInLogged(Payload):
    """A customer who came to the counter, logged by the agent serving them; intake makes it a
    contact (channel `walk_in`) assigned to that agent. Keyed by the walk-in's id."""

    event_type = "walk_in.logged"

    walk_in_id: str
    agent_id: str
    customer: Party
    subject: str = Field(max_length=300)
    text: str = Field(default="", max_length=20000)
    started_at: datetime


TransferMode = Literal["blind", "warm", "conference"]


class TransferRequested(Payload):
    """An agent hands the contact on: to a named agent (offered to them first, then to the queue)
    or to a queue; `warm` consults the target first, `conference` keeps the first agent on."""

    event_type = "contact.transfer_requested"

    transfer_id: str
    from_agent_id: str
    mode: TransferMode
    to_agent_id: str | None = None
    queue_id: str | None = None
    reason: str = Field(default="", max_length=500)


class CallRoute(Payload):
    """Routing's command to the telephony platform: bridge this call to this agent's extension.
    Keyed by the contact."""

    event_type = "call.route"

    command_id: str
    call_id: str
    agent_id: str
    extension: str
    offer_id: str
    mode: Literal["offer", "transfer", "warm_transfer", "conference"] = "offer"


ControlAction = Literal["dial", "consult", "monitor", "whisper", "barge", "release"]


class CallControl(Payload):
    """Any other command about a call: dial a callback from an agent's extension, consult another
    agent before a warm transfer, a supervisor's monitor/whisper/barge. Keyed by the contact."""

    event_type = "call.control"

    command_id: str
    call_id: str
    action: ControlAction
    extension: str
    """Whose line acts: the agent who dials or consults, the supervisor who listens."""
    target: str | None = None
    """The number dialled, the extension consulted or the agent's extension listened to."""
    requested_by: str
    agent_id: str | None = None
    """The agent whose call it is (who dials, consults, or is listened to)."""


class CallCommandResult(Payload):
    """What the telephony platform answered to a `call.route` or `call.control` (after retries):
    for a route, `connected` or `failed`; for a dial, `answered`, `no_answer`, `busy` or `failed`."""

    event_type = "call.command_result"

    command_id: str
    call_id: str
    command: str
    """`route` or the control action."""
    outcome: Literal["connected", "answered", "no_answer", "busy", "failed", "delivered"]
    attempts: int
    reason: str = ""
    agent_id: str | None = None


class CallbackResult(Payload):
    """A callback attempt's result: connected, to be tried again at `next_attempt_at`, or given up
    (unreachable, or blocked by the Do Not Call gate)."""

    event_type = "callback.result"

    attempt: int
    outcome: Literal["connected", "retry", "unreachable", "blocked"]
    reason: str
    agent_id: str | None = None
    next_attempt_at: datetime | None = None
