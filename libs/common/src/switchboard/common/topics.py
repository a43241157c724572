"""The topic registry: every topic Switchboard uses is declared here once.

Names are `<aggregate>.<event>`; the Kafka key is the aggregate's id, so one contact's events stay
in order. Each topic has a dead-letter twin `<name>.dlq`. The registry creates them at start-up
(the embedded broker keeps nothing across restarts) and is what `switchboard topics` lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


CONTACT_RECEIVED = Topic(
    "contact.received",
    ContactReceived,
    key="contact_id",
    description="A contact accepted by intake on any channel.",
)
CONTACT_QUEUED = Topic(
    "contact.queued",
    ContactQueued,
    key="contact_id",
    description="Routing placed a contact in a queue.",
)
CONTACT_NOT_ROUTED = Topic(
    "contact.not_routed",
    ContactNotRouted,
    key="contact_id",
    description="Routing will not offer this contact to an agent (auto-reply, bulk mail).",
)

CALL_ANSWERED = Topic(
    "call.answered", CallAnswered, key="contact_id", description="An agent answered the call."
)
CALL_ABANDONED = Topic(
    "call.abandoned",
    CallAbandoned,
    key="contact_id",
    description="The caller hung up before an answer.",
)
CALL_ENDED = Topic("call.ended", CallEnded, key="contact_id", description="The call ended.")
CALL_VOICEMAIL_LEFT = Topic(
    "call.voicemail_left",
    VoicemailLeft,
    key="contact_id",
    description="The caller left a voicemail.",
)
CALL_CALLBACK_REQUESTED = Topic(
    "call.callback_requested",
    CallbackRequested,
    key="contact_id",
    description="The caller asked to be called back.",
)
OUTBOUND_REQUESTED = Topic(
    "outbound.requested",
    OutboundRequested,
    key="request_id",
    description="An outbound call, fax or SMS someone wants to make; it waits for the DNC gate.",
)
OUTBOUND_CLEARED = Topic(
    "outbound.cleared", OutboundCleared, key="request_id", description="The DNC gate cleared it."
)
OUTBOUND_BLOCKED = Topic(
    "outbound.blocked",
    OutboundBlocked,
    key="request_id",
    description="The DNC gate blocked it, with the reason.",
)

AGENT_STATE = Topic(
    "agent.state",
    AgentStateChanged,
    key="agent_id",
    description="An agent's presence: available, break (with reason) or offline.",
)
AGENT_OFFERED = Topic(
    "agent.offered",
    AgentOffered,
    key="agent_id",
    description="A contact offered to one agent until it expires, with why this agent.",
)
AGENT_OFFER_WITHDRAWN = Topic(
    "agent.offer_withdrawn",
    OfferWithdrawn,
    key="agent_id",
    description="An offer closed without an answer (timed out, the caller hung up, re-queued).",
)
CONTACT_ACCEPTED = Topic(
    "contact.accepted",
    ContactAccepted,
    key="contact_id",
    description="The agent accepted the offer.",
)
CONTACT_DECLINED = Topic(
    "contact.declined",
    ContactDeclined,
    key="contact_id",
    description="The agent declined the offer; it goes to the next agent.",
)
CONTACT_ASSIGNED = Topic(
    "contact.assigned",
    ContactAssigned,
    key="contact_id",
    description="The contact is the agent's until wrapped.",
)
CONTACT_WRAPPED = Topic(
    "contact.wrapped",
    ContactWrapped,
    key="contact_id",
    description="The agent finished the contact, with disposition and outcome.",
)
CONTACT_ESCALATED = Topic(
    "contact.escalated",
    ContactEscalated,
    key="contact_id",
    description="A promise is at risk: re-queue with a new priority or queue.",
)
CONTACT_REPLIED = Topic(
    "contact.replied",
    ReplySent,
    key="contact_id",
    description="The agent answered the customer on the contact's channel (email, call, fax).",
)
FOLLOWUP_PROMISED = Topic(
    "followup.promised",
    FollowUpPromised,
    key="contact_id",
    description="The agent promised the customer a callback or follow-up at a time.",
)
FOLLOWUP_DONE = Topic(
    "followup.done",
    FollowUpDone,
    key="contact_id",
    description="The agent kept a promised follow-up.",
)
COMPLAINT_RAISED = Topic(
    "complaint.raised",
    ComplaintRaised,
    key="contact_id",
    description="The agent marked the contact a complaint; the complaint policy applies.",
)
IMPROVEMENT_NOTED = Topic(
    "improvement.noted",
    ImprovementNoted,
    key="contact_id",
    description="A difficulty not escalated, recorded for continuous improvement.",
)
SURVEY_RESPONDED = Topic(
    "survey.responded",
    SurveyResponded,
    key="contact_id",
    description="The customer's post-contact survey answer (CSAT 1-5, NPS 0-10).",
)
JOB_REQUESTED = Topic(
    "job.requested",
    JobRequested,
    key="job_id",
    description="The agent asked for field staff on site for the contact.",
)
JOB_STATUS = Topic(
    "job.status",
    JobStatusChanged,
    key="job_id",
    description="A field job's every status change (created, despatched, confirmed, re-despatched, "
    "en route, on site, completed, cancelled, failed), with the technician and the reason.",
)
FIELDCOMM_STATUS = Topic(
    "fieldcomm.status",
    FieldMessageChanged,
    key="message_id",
    description="A message to field staff held for approval, approved, rejected or sent.",
)
FIELDCOMM_RESPONSE = Topic(
    "fieldcomm.response",
    FieldResponse,
    key="message_id",
    description="A technician's answer to a message (acknowledged, declined, ETA), or a chase.",
)
SLA_ALERT = Topic(
    "sla.alert",
    SlaAlert,
    key="contact_id",
    description="A promise nearly due (warning) or broken (breach), with who is to be told.",
)
FOLLOWUP_DUE = Topic(
    "followup.due",
    FollowUpDue,
    key="contact_id",
    description="A promised follow-up is due now; offered first to the agent who promised it.",
)
QUEUE_STATS = Topic(
    "queue.stats",
    QueueStatistics,
    key="tenant/queue",
    partitions=3,
    retention_ms=24 * 3600 * 1000,
    compacted=True,
    description="Each queue's real-time statistics, every few seconds (compacted: latest wins).",
)
SUPERVISOR_ALERT = Topic(
    "supervisor.alert",
    SupervisorAlert,
    key="tenant_id",
    description="What a supervisor must see now (an agent put on break for missed offers).",
)
CUSTOMER_CORRECTED = Topic(
    "customer.corrected",
    CustomerCorrected,
    key="customer_id",
    description="A customer's personal information corrected on request (APP 13).",
)

ERASURE_REQUESTED = Topic(
    "customer.erasure_requested",
    ErasureRequested,
    key="request_id",
    description="Erase a customer's personal information from these contacts, in every service "
    "(an erasure request or the retention period).",
)
ERASURE_APPLIED = Topic(
    "customer.erasure_applied",
    ErasureApplied,
    key="request_id",
    description="A service has erased its copies for an erasure request.",
)

WORKFORCE_SCHEDULE = Topic(
    "workforce.schedule",
    SchedulePublished,
    key="agent_id",
    description="An agent's rostered day (shifts, breaks, lunches, leave), as published.",
)
WORKFORCE_ADHERENCE = Topic(
    "workforce.adherence",
    AdherenceChanged,
    key="agent_id",
    description="An agent's schedule adherence and conformance today, as their state changes.",
)
WORKFORCE_INTRADAY = Topic(
    "workforce.intraday",
    IntradayPicture,
    key="tenant_id",
    partitions=3,
    retention_ms=2 * 24 * 3600 * 1000,
    compacted=True,
    description="A tenant's day per interval: forecast vs actual, required vs rostered vs signed in.",
)

QUALITY_EVALUATION = Topic(
    "quality.evaluation",
    EvaluationPublished,
    key="evaluation_id",
    description="An evaluation of an agent's contact, for them to acknowledge or dispute.",
)
EVALUATION_ANSWERED = Topic(
    "evaluation.answered",
    EvaluationAnswered,
    key="evaluation_id",
    description="The agent acknowledged or disputed an evaluation (from the desktop).",
)
QUALITY_FEEDBACK = Topic(
    "quality.feedback",
    FeedbackPosted,
    key="feedback_id",
    description="A team leader's feedback to a team or an agent.",
)
QUALITY_COACHING = Topic(
    "quality.coaching",
    CoachingPlanned,
    key="coaching_id",
    description="A coaching session with its actions and follow-up date, as it changes.",
)

ORDER_STATUS = Topic(
    "order.status",
    OrderChanged,
    key="order_id",
    description="An order built on a contact: credit checked, waiting for approval, placed, cancelled.",
)
KNOWLEDGE_USED = Topic(
    "knowledge.used",
    ArticleUsed,
    key="contact_id",
    description="An agent used a knowledge article, script or campaign brief on a contact.",
)
RETENTION_OFFERED = Topic(
    "retention.offered",
    RetentionOffered,
    key="contact_id",
    description="A retention offer made to a customer who asked to leave, with their answer.",
)

CHAT_MESSAGE = Topic(
    "chat.message",
    ChatMessage,
    key="contact_id",
    description="A customer's message in a web chat (the agent's answers are contact.replied).",
)
CHAT_ACTIVITY = Topic(
    "chat.activity",
    ChatActivity,
    key="contact_id",
    retention_ms=24 * 3600 * 1000,
    description="Typing, delivered, the customer gone or back: what the other side of a chat sees.",
)
WALK_IN_LOGGED = Topic(
    "walk_in.logged",
    WalkInLogged,
    key="walk_in_id",
    description="A face-to-face contact logged at the counter; intake makes it a contact.",
)
CONTACT_TRANSFER_REQUESTED = Topic(
    "contact.transfer_requested",
    TransferRequested,
    key="contact_id",
    description="An agent hands a contact on: to an agent or a queue, blind, warm or conference.",
)
CALL_ROUTE = Topic(
    "call.route",
    CallRoute,
    key="contact_id",
    description="Routing tells the telephony platform to bridge a call to an agent's extension.",
)
CALL_CONTROL = Topic(
    "call.control",
    CallControl,
    key="contact_id",
    description="Dial a callback, consult, monitor, whisper or barge: a command about a call.",
)
CALL_COMMAND_RESULT = Topic(
    "call.command_result",
    CallCommandResult,
    key="contact_id",
    description="The telephony platform's answer to a call.route or call.control, after retries.",
)
CALLBACK_RESULT = Topic(
    "callback.result",
    CallbackResult,
    key="contact_id",
    description="A callback attempt: connected, to be retried, unreachable or blocked.",
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
