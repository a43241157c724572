"""Recording's subscribers: every contact event becomes a timeline entry and updates the record,
exactly once however often it is delivered."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import pacing, prefetch, topics
from switchboard.common.envelope import Envelope
from switchboard.common.errors import PermanentError
from switchboard.common.events.catalogue import OrderChanged, RetentionOffered
from switchboard.common.events.desktop import (
    ComplaintRaised,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ImprovementNoted,
    JobRequested,
)
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.intake import (
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    ContactReceived,
    VoicemailLeft,
)
from switchboard.common.events.privacy import ErasureApplied
from switchboard.common.events.quality import EvaluationAnswered
from switchboard.common.events.records import CustomerCorrected, SurveyResponded
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    ContactNotRouted,
    ContactQueued,
)
from switchboard.common.events.workforce import AdherenceChanged
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.recording import adherence, casework, customers, erasure, saves, store
from switchboard.recording.domain import ContactFacts
from switchboard.recording.quality import evaluating, handlings

SERVICE = "recording"


async def _prefetch(session: AsyncSession, events: list[Envelope[Any]]) -> None:
    """The handlings a batch's assignments and wrap-ups fill in, and their contacts' records (a
    new handling asks when its call ended), in a query each; and the customers its new contacts
    are from."""
    handled = [
        (event.about_contact_id, event.payload.agent_id)
        for event in events
        if isinstance(event.payload, ContactAssigned | ContactWrapped)
    ]
    await prefetch.load(session, handlings.Handling, handled)
    await prefetch.load(session, store.RecordedContact, (contact for contact, _ in handled))
    parties = [
        (event.tenant_id, event.payload.customer)
        for event in events
        if isinstance(event.payload, ContactReceived)
    ]
    await customers.prefetch_owners(session, parties)


subscriptions = Subscriptions(
    SERVICE,
    promptness=pacing.UNHURRIED,  # the history and the KPIs are read later
    prefetch=_prefetch,
    emits=(
        topics.CUSTOMER_CORRECTED,
        topics.SURVEY_RESPONDED,
        topics.QUALITY_EVALUATION,
        topics.QUALITY_FEEDBACK,
        topics.QUALITY_COACHING,
        topics.ERASURE_REQUESTED,
    ),
)


@subscriptions.on(topics.CONTACT_RECEIVED)
async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None:
    contact = event.payload
    facts = ContactFacts(
        status="received",
        channel=contact.channel,
        conversation_id=contact.conversation_id,
        received_at=contact.received_at,
        customer_name=contact.customer.name,
        customer_email=contact.customer.email,
        customer_phone=contact.customer.phone,
        subject=contact.subject,
        text=contact.text,
        flags=contact.flags,
        masked=contact.masked,
        attachments=[a.model_dump() for a in contact.attachments],
        customer_id=await customers.link(
            tx.session, tenant_id=event.tenant_id, party=contact.customer
        ),
    )
    details: dict[str, Any] = {
        "channel": contact.channel,
        "flags": contact.flags,
        "attachments": len(contact.attachments),
        "parse_warnings": contact.parse_warnings,
        "masked": contact.masked,
    }
    if contact.document is not None:
        details["document"] = contact.document.model_dump(exclude_none=True)
    if contact.phone is not None:
        details["ivr_selections"] = contact.phone.ivr_selections
    await _apply(tx, event, facts, details)


@subscriptions.on(topics.CONTACT_QUEUED)
async def on_contact_queued(event: Envelope[ContactQueued], tx: Transaction) -> None:
    queued = event.payload
    facts = ContactFacts(
        status="queued",
        queue_id=queued.queue_id,
        service_level_seconds=queued.service_level_seconds,
    )
    details = {
        "queue_id": queued.queue_id,
        "priority": queued.priority,
        "reason": queued.reason,
    }
    await _apply(tx, event, facts, details)


@subscriptions.on(topics.CONTACT_NOT_ROUTED)
async def on_contact_not_routed(event: Envelope[ContactNotRouted], tx: Transaction) -> None:
    reason = event.payload.reason
    facts = ContactFacts(status="not_routed", not_routed_reason=reason)
    await _apply(tx, event, facts, {"reason": reason})


@subscriptions.on(topics.CALL_ANSWERED)
async def on_call_answered(event: Envelope[CallAnswered], tx: Transaction) -> None:
    call = event.payload
    facts = ContactFacts(status="answered", answered_at=call.at)
    await _apply(tx, event, facts, {"agent_ref": call.agent_ref})


@subscriptions.on(topics.CALL_ABANDONED)
async def on_call_abandoned(event: Envelope[CallAbandoned], tx: Transaction) -> None:
    await _apply(tx, event, ContactFacts(status="abandoned", abandoned_at=event.payload.at), {})


@subscriptions.on(topics.CALL_ENDED)
async def on_call_ended(event: Envelope[CallEnded], tx: Transaction) -> None:
    call = event.payload
    facts = ContactFacts(status="ended", ended_at=call.at)
    await _apply(tx, event, facts, {"duration_seconds": call.duration_seconds})
    await handlings.call_ended(tx.session, contact_id=event.about_contact_id, at=call.at)


@subscriptions.on(topics.CALL_VOICEMAIL_LEFT)
async def on_voicemail_left(event: Envelope[VoicemailLeft], tx: Transaction) -> None:
    voicemail = event.payload
    details = {
        "recording_ref": voicemail.recording_ref,
        "duration_seconds": voicemail.duration_seconds,
    }
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.CALL_CALLBACK_REQUESTED)
async def on_callback_requested(event: Envelope[CallbackRequested], tx: Transaction) -> None:
    facts = ContactFacts(status=None)
    await _apply(tx, event, facts, {"callback_number": event.payload.callback_number})


@subscriptions.on(topics.AGENT_OFFERED)
async def on_agent_offered(event: Envelope[AgentOffered], tx: Transaction) -> None:
    """Every offer is kept with the contact, with why that agent was chosen."""
    offer = event.payload
    details = {
        "offer_id": offer.offer_id,
        "agent_id": offer.agent_id,
        "expires_at": offer.expires_at.isoformat(),
        "reason": offer.reason.model_dump(mode="json"),
    }
    await _apply(tx, event, ContactFacts(status="offered", offered_at=event.occurred_at), details)


@subscriptions.on(topics.CONTACT_ASSIGNED)
async def on_contact_assigned(event: Envelope[ContactAssigned], tx: Transaction) -> None:
    assigned = event.payload
    facts = ContactFacts(
        status="assigned",
        agent_id=assigned.agent_id,
        assigned_at=event.occurred_at,
        agent_assigned_at=event.occurred_at,
        waited_seconds=assigned.waited_seconds,
        assignments=1,
    )
    await _apply(tx, event, facts, assigned.model_dump(mode="json"))
    await handlings.assigned(
        tx.session,
        tenant_id=event.tenant_id,
        contact_id=event.about_contact_id,
        agent_id=assigned.agent_id,
        queue_id=assigned.queue_id,
        at=event.occurred_at,
    )


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    wrapped = event.payload
    facts = ContactFacts(
        status="wrapped",
        disposition=wrapped.disposition,
        outcome=wrapped.outcome,
        wrapped_at=event.occurred_at,
    )
    await _apply(tx, event, facts, wrapped.model_dump(mode="json"))
    await handlings.wrapped(
        tx.session,
        tenant_id=event.tenant_id,
        contact_id=event.about_contact_id,
        agent_id=wrapped.agent_id,
        at=event.occurred_at,
        disposition=wrapped.disposition,
        outcome=wrapped.outcome,
        notes_given=bool((wrapped.notes or "").strip()),
    )


@subscriptions.on(topics.CONTACT_ESCALATED)
async def on_contact_escalated(event: Envelope[ContactEscalated], tx: Transaction) -> None:
    facts = ContactFacts(status=None, escalated=True)
    await _apply(tx, event, facts, event.payload.model_dump(mode="json"))


@subscriptions.on(topics.ERASURE_APPLIED)
async def on_erasure_applied(event: Envelope[ErasureApplied], tx: Transaction) -> None:
    await erasure.applied(tx.session, event)


@subscriptions.on(topics.CUSTOMER_CORRECTED)
async def on_customer_corrected(event: Envelope[CustomerCorrected], tx: Transaction) -> None:
    """A correction requested through the API, applied here (so it is in the event history)."""
    correction = event.payload
    try:
        await customers.correct(
            tx.session,
            event_id=event.event_id,
            tenant_id=event.tenant_id,
            customer_id=event.aggregate_id,
            field=correction.field,
            old_value=correction.old_value,
            new_value=correction.new_value,
            reason=correction.reason,
            actor=correction.actor,
            at=event.occurred_at,
        )
    except LookupError as error:
        raise PermanentError(str(error)) from None


async def _noted(event: Envelope[Any], tx: Transaction) -> None:
    """An event that goes on the contact's timeline without moving its status."""
    await _apply(tx, event, ContactFacts(status=None), event.payload.model_dump(mode="json"))


for _topic in (
    topics.AGENT_OFFER_WITHDRAWN,
    topics.CONTACT_DECLINED,
    topics.CONTACT_REPLIED,  # with what was said (retention blanks it with the rest)
    topics.KNOWLEDGE_USED,
    topics.CHAT_MESSAGE,
    topics.CONTACT_TRANSFER_REQUESTED,
    topics.CALL_ROUTE,
    topics.CALL_CONTROL,
    topics.CALL_COMMAND_RESULT,
    topics.CALLBACK_RESULT,
):
    subscriptions.on(_topic)(_noted)


@subscriptions.on(topics.FOLLOWUP_PROMISED)
async def on_followup_promised(event: Envelope[FollowUpPromised], tx: Transaction) -> None:
    await casework.follow_up_promised(tx.session, event)
    await _noted(event, tx)


@subscriptions.on(topics.FOLLOWUP_DONE)
async def on_followup_done(event: Envelope[FollowUpDone], tx: Transaction) -> None:
    await casework.follow_up_done(tx.session, event)
    await _noted(event, tx)


@subscriptions.on(topics.COMPLAINT_RAISED)
async def on_complaint_raised(event: Envelope[ComplaintRaised], tx: Transaction) -> None:
    tx.session.add(casework.complaint(event))
    details = event.payload.model_dump(
        mode="json", include={"complaint_id", "agent_id", "category"}
    )
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.IMPROVEMENT_NOTED)
async def on_improvement_noted(event: Envelope[ImprovementNoted], tx: Transaction) -> None:
    tx.session.add(casework.improvement(event))
    details = event.payload.model_dump(
        mode="json", include={"improvement_id", "agent_id", "category"}
    )
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.SURVEY_RESPONDED)
async def on_survey_responded(event: Envelope[SurveyResponded], tx: Transaction) -> None:
    tx.session.add(casework.survey(event))
    details = event.payload.model_dump(mode="json", include={"csat", "nps", "source"})
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.JOB_REQUESTED)
async def on_job_requested(event: Envelope[JobRequested], tx: Transaction) -> None:
    """A field job asked for from the contact: mirrored, and on the contact's timeline (the job's
    own record is dispatch's)."""
    await casework.job_requested(tx.session, event)
    job = event.payload
    details = job.model_dump(mode="json", include={"job_id", "agent_id", "work_type", "priority"})
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.JOB_STATUS)
async def on_job_status(event: Envelope[JobStatusChanged], tx: Transaction) -> None:
    """A job's status change: the mirror follows, and a job asked for from a contact gets it on
    the contact's timeline."""
    await casework.job_status(tx.session, event)
    if event.contact_id is None:
        return
    details = event.payload.model_dump(
        mode="json", include={"job_id", "status", "previous", "technician_id", "reason"}
    )
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.ORDER_STATUS)
async def on_order_status(event: Envelope[OrderChanged], tx: Transaction) -> None:
    """An order built on the contact: its credit decision, approval, placing or cancelling."""
    details = event.payload.model_dump(mode="json", exclude={"lines"})
    details["products"] = [line.name for line in event.payload.lines]
    await _apply(tx, event, ContactFacts(status=None), details)


@subscriptions.on(topics.RETENTION_OFFERED)
async def on_retention_offered(event: Envelope[RetentionOffered], tx: Transaction) -> None:
    """A retention offer and the customer's answer: on the timeline, and counted for the save
    rate."""
    saves.offered(tx.session, event)
    await _noted(event, tx)


async def _apply(
    tx: Transaction, event: Envelope[Any], facts: ContactFacts, details: dict[str, Any]
) -> None:
    contact_id = event.about_contact_id
    pending = store.record(
        tx.session,
        contact_id=contact_id,
        tenant_id=event.tenant_id,
        facts=facts,
        entry={
            "event_id": event.event_id,
            "contact_id": contact_id,
            "tenant_id": event.tenant_id,
            "event_type": event.event_type,
            "occurred_at": event.occurred_at,
            "causation_id": event.causation_id,
            "details": details,
        },
    )
    tx.before_commit(pending.write)


@subscriptions.on(topics.WORKFORCE_ADHERENCE)
async def on_adherence(event: Envelope[AdherenceChanged], tx: Transaction) -> None:
    """An agent's adherence today, kept for the schedule-adherence KPI."""
    await adherence.apply(
        tx.session, tenant_id=event.tenant_id, report=event.payload, measured_at=event.occurred_at
    )


@subscriptions.on(topics.EVALUATION_ANSWERED)
async def on_evaluation_answered(event: Envelope[EvaluationAnswered], tx: Transaction) -> None:
    """An agent acknowledged or disputed an evaluation at their desktop."""
    await evaluating.answered(tx, event)
