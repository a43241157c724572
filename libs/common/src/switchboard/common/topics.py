"""The topic registry: every topic Switchboard uses is declared here once.

Names are `<aggregate>.<event>`; the Kafka key is the aggregate's id, so one contact's events stay
in order. Each topic has a dead-letter twin `<name>.dlq`. The registry creates them at start-up
(the embedded broker keeps nothing across restarts) and is what `switchboard topics` lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from switchboard.common.envelope import Payload
from switchboard.common.events.catalogue import ArticleUsed, OrderChanged, RetentionOffered
from switchboard.common.events.channels import (
    CallbackResult,
    CallCommandResult,
    CallControl,
    CallRoute,
    ChatActivity,
    ChatMessage,
    TransferRequested,
    WalkInLogged,
)
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ComplaintRaised,
    ContactAccepted,
    ContactDeclined,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ImprovementNoted,
    JobRequested,
    ReplySent,
)
from switchboard.common.events.dispatch import FieldMessageChanged, FieldResponse, JobStatusChanged
from switchboard.common.events.escalation import ContactEscalated, FollowUpDue, SlaAlert
from switchboard.common.events.intake import (
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    ContactReceived,
    VoicemailLeft,
)
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared, OutboundRequested
from switchboard.common.events.privacy import ErasureApplied, ErasureRequested
from switchboard.common.events.quality import (
    CoachingPlanned,
    EvaluationAnswered,
    EvaluationPublished,
    FeedbackPosted,
)
from switchboard.common.events.records import CustomerCorrected, SurveyResponded
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    ContactNotRouted,
    ContactQueued,
    OfferWithdrawn,
    QueueStatistics,
    SupervisorAlert,
)
from switchboard.common.events.workforce import (
    AdherenceChanged,
    IntradayPicture,
    SchedulePublished,
)

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    name: str
    payload: type[Payload]
    key: str
    partitions: int = 6
    retention_ms: int = 7 * 24 * 3600 * 1000
    compacted: bool = False
    description: str = ""
    envelope: bool = True
    """False for a raw channel topic: its values are what a channel system wrote, not envelopes."""

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX

    @property
    def event_type(self) -> str:
        return self.payload.event_type


def _declare(
    payload: type[Payload], description: str, *, key: str = "contact_id", **options: Any
) -> Topic:
    """The topic of `payload`'s events, named as its event type and keyed by `key`, the id of
    the aggregate whose events must stay in order (most often the contact's)."""
    return Topic(payload.event_type, payload, key, description=description, **options)


CONTACT_RECEIVED = _declare(ContactReceived, "A contact accepted by intake on any channel.")
CONTACT_QUEUED = _declare(ContactQueued, "Routing placed a contact in a queue.")
CONTACT_NOT_ROUTED = _declare(
    ContactNotRouted, "Routing will not offer this contact to an agent (auto-reply, bulk mail)."
)

CALL_ANSWERED = _declare(CallAnswered, "An agent answered the call.")
CALL_ABANDONED = _declare(CallAbandoned, "The caller hung up before an answer.")
CALL_ENDED = _declare(CallEnded, "The call ended.")
CALL_VOICEMAIL_LEFT = _declare(VoicemailLeft, "The caller left a voicemail.")
CALL_CALLBACK_REQUESTED = _declare(CallbackRequested, "The caller asked to be called back.")
OUTBOUND_REQUESTED = _declare(
    OutboundRequested,
    "An outbound call, fax or SMS someone wants to make; it waits for the DNC gate.",
    key="request_id",
)
OUTBOUND_CLEARED = _declare(OutboundCleared, "The DNC gate cleared it.", key="request_id")
OUTBOUND_BLOCKED = _declare(
    OutboundBlocked, "The DNC gate blocked it, with the reason.", key="request_id"
)

AGENT_STATE = _declare(
    AgentStateChanged,
    "An agent's presence: available, break (with reason) or offline.",
    key="agent_id",
)
AGENT_OFFERED = _declare(
    AgentOffered,
    "A contact offered to one agent until it expires, with why this agent.",
    key="agent_id",
)
AGENT_OFFER_WITHDRAWN = _declare(
    OfferWithdrawn,
    "An offer closed without an answer (timed out, the caller hung up, re-queued).",
    key="agent_id",
)
CONTACT_ACCEPTED = _declare(ContactAccepted, "The agent accepted the offer.")
CONTACT_DECLINED = _declare(
    ContactDeclined, "The agent declined the offer; it goes to the next agent."
)
CONTACT_ASSIGNED = _declare(ContactAssigned, "The contact is the agent's until wrapped.")
CONTACT_WRAPPED = _declare(
    ContactWrapped, "The agent finished the contact, with disposition and outcome."
)
CONTACT_ESCALATED = _declare(
    ContactEscalated, "A promise is at risk: re-queue with a new priority or queue."
)
CONTACT_REPLIED = _declare(
    ReplySent, "The agent answered the customer on the contact's channel (email, call, fax)."
)
FOLLOWUP_PROMISED = _declare(
    FollowUpPromised, "The agent promised the customer a callback or follow-up at a time."
)
FOLLOWUP_DONE = _declare(FollowUpDone, "The agent kept a promised follow-up.")
COMPLAINT_RAISED = _declare(
    ComplaintRaised, "The agent marked the contact a complaint; the complaint policy applies."
)
IMPROVEMENT_NOTED = _declare(
    ImprovementNoted, "A difficulty not escalated, recorded for continuous improvement."
)
SURVEY_RESPONDED = _declare(
    SurveyResponded, "The customer's post-contact survey answer (CSAT 1-5, NPS 0-10)."
)
JOB_REQUESTED = _declare(
    JobRequested, "The agent asked for field staff on site for the contact.", key="job_id"
)
JOB_STATUS = _declare(
    JobStatusChanged,
    "A field job's every status change (created, despatched, confirmed, re-despatched, "
    "en route, on site, completed, cancelled, failed), with the technician and the reason.",
    key="job_id",
)
FIELDCOMM_STATUS = _declare(
    FieldMessageChanged,
    "A message to field staff held for approval, approved, rejected or sent.",
    key="message_id",
)
FIELDCOMM_RESPONSE = _declare(
    FieldResponse,
    "A technician's answer to a message (acknowledged, declined, ETA), or a chase.",
    key="message_id",
)
SLA_ALERT = _declare(
    SlaAlert, "A promise nearly due (warning) or broken (breach), with who is to be told."
)
FOLLOWUP_DUE = _declare(
    FollowUpDue, "A promised follow-up is due now; offered first to the agent who promised it."
)
QUEUE_STATS = _declare(
    QueueStatistics,
    "Each queue's real-time statistics, every few seconds (compacted: latest wins).",
    key="tenant/queue",
    partitions=3,
    retention_ms=24 * 3600 * 1000,
    compacted=True,
)
SUPERVISOR_ALERT = _declare(
    SupervisorAlert,
    "What a supervisor must see now (an agent put on break for missed offers).",
    key="tenant_id",
)
CUSTOMER_CORRECTED = _declare(
    CustomerCorrected,
    "A customer's personal information corrected on request (APP 13).",
    key="customer_id",
)

ERASURE_REQUESTED = _declare(
    ErasureRequested,
    "Erase a customer's personal information from these contacts, in every service "
    "(an erasure request or the retention period).",
    key="request_id",
)
ERASURE_APPLIED = _declare(
    ErasureApplied, "A service has erased its copies for an erasure request.", key="request_id"
)

WORKFORCE_SCHEDULE = _declare(
    SchedulePublished,
    "An agent's rostered day (shifts, breaks, lunches, leave), as published.",
    key="agent_id",
)
WORKFORCE_ADHERENCE = _declare(
    AdherenceChanged,
    "An agent's schedule adherence and conformance today, as their state changes.",
    key="agent_id",
)
WORKFORCE_INTRADAY = _declare(
    IntradayPicture,
    "A tenant's day per interval: forecast vs actual, required vs rostered vs signed in.",
    key="tenant_id",
    partitions=3,
    retention_ms=2 * 24 * 3600 * 1000,
    compacted=True,
)

QUALITY_EVALUATION = _declare(
    EvaluationPublished,
    "An evaluation of an agent's contact, for them to acknowledge or dispute.",
    key="evaluation_id",
)
EVALUATION_ANSWERED = _declare(
    EvaluationAnswered,
    "The agent acknowledged or disputed an evaluation (from the desktop).",
    key="evaluation_id",
)
QUALITY_FEEDBACK = _declare(
    FeedbackPosted, "A team leader's feedback to a team or an agent.", key="feedback_id"
)
QUALITY_COACHING = _declare(
    CoachingPlanned,
    "A coaching session with its actions and follow-up date, as it changes.",
    key="coaching_id",
)

ORDER_STATUS = _declare(
    OrderChanged,
    "An order built on a contact: credit checked, waiting for approval, placed, cancelled.",
    key="order_id",
)
KNOWLEDGE_USED = _declare(
    ArticleUsed, "An agent used a knowledge article, script or campaign brief on a contact."
)
RETENTION_OFFERED = _declare(
    RetentionOffered, "A retention offer made to a customer who asked to leave, with their answer."
)

CHAT_MESSAGE = _declare(
    ChatMessage, "A customer's message in a web chat (the agent's answers are contact.replied)."
)
CHAT_ACTIVITY = _declare(
    ChatActivity,
    "Typing, delivered, the customer gone or back: what the other side of a chat sees.",
    retention_ms=24 * 3600 * 1000,
)
WALK_IN_LOGGED = _declare(
    WalkInLogged,
    "A face-to-face contact logged at the counter; intake makes it a contact.",
    key="walk_in_id",
)
CONTACT_TRANSFER_REQUESTED = _declare(
    TransferRequested,
    "An agent hands a contact on: to an agent or a queue, blind, warm or conference.",
)
CALL_ROUTE = _declare(
    CallRoute, "Routing tells the telephony platform to bridge a call to an agent's extension."
)
CALL_CONTROL = _declare(
    CallControl, "Dial a callback, consult, monitor, whisper or barge: a command about a call."
)
CALL_COMMAND_RESULT = _declare(
    CallCommandResult,
    "The telephony platform's answer to a call.route or call.control, after retries.",
)
CALLBACK_RESULT = _declare(
    CallbackResult, "A callback attempt: connected, to be retried, unreachable or blocked."
)


class RawChannelInput(Payload):
    """What a channel system writes straight to `intake.<channel>.raw` (see intake's README)."""

    event_type = "intake.raw"


def _raw(channel: str, form: str) -> Topic:
    return Topic(
        f"intake.{channel}.raw",
        RawChannelInput,
        key="external id",
        description=f"{channel} contacts written straight to Kafka by a channel system: {form}",
        envelope=False,
    )


INTAKE_EMAIL_RAW = _raw("email", "the raw RFC 5322 message")
INTAKE_PHONE_RAW = _raw("phone", "one CTI event as JSON, as POST /v1/phone/events takes it")
INTAKE_LETTER_RAW = _raw("letter", "JSON: mailroom metadata and document_base64")
INTAKE_FAX_RAW = _raw("fax", "JSON: fax server metadata and document_base64")

REGISTRY: tuple[Topic, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Topic))
"""Every topic declared in this module, in the order declared: a topic is declared once."""

_BY_NAME = {topic.name: topic for topic in REGISTRY}
_BY_EVENT_TYPE = {topic.event_type: topic for topic in REGISTRY if topic.envelope}


def by_name(name: str) -> Topic:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the topic registry") from None


def for_event_type(event_type: str) -> Topic:
    try:
        return _BY_EVENT_TYPE[event_type]
    except KeyError:
        raise KeyError(f"no topic carries {event_type!r} events") from None


def all_topic_names(topics: Iterable[Topic] = REGISTRY) -> list[str]:
    """Every topic and its dead-letter twin."""
    return [name for topic in topics for name in (topic.name, topic.dlq)]
