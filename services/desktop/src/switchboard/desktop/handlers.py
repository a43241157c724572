"""The desktop's subscribers: each event meant for an agent goes into that agent's inbox (which
their stream replays), and the desktop's view of contacts, offers and queues follows the events."""

from __future__ import annotations

from typing import Any

from switchboard.common import topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import (
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    JobRequested,
)
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.escalation import ContactEscalated, FollowUpDue, SlaAlert
from switchboard.common.events.intake import ContactReceived
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    ContactQueued,
    OfferWithdrawn,
)
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.desktop import (
    channel_handlers,
    domain,
    floor_handlers,
    privacy,
    quality,
    store,
)
from switchboard.desktop.context import Desktop
from switchboard.desktop.delivery import contact_for, tell

SERVICE = "desktop"
subscriptions = Subscriptions(
    SERVICE,
    prefetch=store.prefetch_batch,
    emits=(
        topics.AGENT_STATE,
        topics.CONTACT_ACCEPTED,
        topics.CONTACT_DECLINED,
        topics.CONTACT_WRAPPED,
        topics.CONTACT_ESCALATED,
        topics.CONTACT_REPLIED,
        topics.FOLLOWUP_PROMISED,
        topics.FOLLOWUP_DONE,
        topics.COMPLAINT_RAISED,
        topics.IMPROVEMENT_NOTED,
        topics.JOB_REQUESTED,
        topics.OUTBOUND_REQUESTED,
        topics.EVALUATION_ANSWERED,
        topics.CHAT_ACTIVITY,
        topics.WALK_IN_LOGGED,
        topics.CONTACT_TRANSFER_REQUESTED,
        topics.CALL_CONTROL,
        topics.ERASURE_APPLIED,
    ),
)


@subscriptions.on(topics.CUSTOMER_CORRECTED)
async def on_customer_corrected(event: Envelope[CustomerCorrected], tx: Transaction) -> None:
    await privacy.correct(tx, event)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    await privacy.erase(tx, event, Desktop.of(tx).settings.mail_sink)


@subscriptions.on(topics.CONTACT_RECEIVED)
async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None:
    contact, received = await contact_for(tx, event), event.payload
    contact.channel, contact.conversation_id = received.channel, received.conversation_id
    contact.conversation_token, contact.received_at = (
        received.conversation_token,
        received.received_at,
    )
    contact.destination = received.destination
    contact.customer_name = received.customer.name
    contact.customer_email = received.customer.email
    contact.customer_phone = received.customer.phone or (
        received.phone.ani if received.phone else None
    )
    contact.subject, contact.text, contact.masked = received.subject, received.text, received.masked
    contact.attachments = [a.model_dump(mode="json") for a in received.attachments]
    if received.phone is not None:
        contact.call_id = received.phone.call_id
    if received.email is not None:
        contact.message_id = received.email.message_id
        contact.references = list(received.email.references)
    tx.session.add(contact)


@subscriptions.on(topics.CONTACT_QUEUED)
async def on_contact_queued(event: Envelope[ContactQueued], tx: Transaction) -> None:
    contact = await contact_for(tx, event)
    contact.queue_id = event.payload.queue_id
    if contact.status in ("received", "offered"):
        contact.status = "queued"
    tx.session.add(contact)


@subscriptions.on(topics.AGENT_OFFERED)
async def on_agent_offered(event: Envelope[AgentOffered], tx: Transaction) -> None:
    offer = event.payload
    contact = await contact_for(tx, event)
    contact.queue_id, contact.channel = offer.queue_id, contact.channel or offer.channel
    tx.session.add(contact)
    details: dict[str, Any] = {
        "agent_id": offer.agent_id,
        "contact_id": contact.contact_id,
        "tenant_id": event.tenant_id,
        "queue_id": offer.queue_id,
        "channel": offer.channel,
        "expires_at": offer.expires_at,
        "offered_event_id": event.event_id,
    }
    # Its withdrawal comes on another topic and may have been applied first (`on_offer_withdrawn`):
    # then the offer is recorded as withdrawn and never shown.
    known = await tx.session.get(store.DesktopOffer, offer.offer_id)
    if known is not None:
        tx.session.add(known.sqlmodel_update(details))
        return
    # So may the assignment that followed its acceptance (from a backlog): the agent has the
    # contact already, and the offer is recorded as accepted, never shown.
    taken = contact.agent_id == offer.agent_id and contact.status == "assigned"
    status = "accepted" if taken else "open"
    tx.session.add(store.DesktopOffer(offer_id=offer.offer_id, **details, status=status))
    if taken:
        return
    await tell(
        tx,
        offer.agent_id,
        "offer",
        {
            "offer_id": offer.offer_id,
            "contact_id": contact.contact_id,
            "tenant_id": event.tenant_id,
            "queue_id": offer.queue_id,
            "channel": offer.channel,
            "priority": offer.priority,
            "expires_at": offer.expires_at.isoformat(),
            "timeout_seconds": offer.timeout_seconds,
            "subject": contact.subject,
        },
    )


@subscriptions.on(topics.AGENT_OFFER_WITHDRAWN)
async def on_offer_withdrawn(event: Envelope[OfferWithdrawn], tx: Transaction) -> None:
    withdrawn = event.payload
    offer = await tx.session.get(store.DesktopOffer, withdrawn.offer_id)
    if offer is None:  # the offer itself, on another topic, is still to come: it will not open
        tx.session.add(
            store.DesktopOffer(
                offer_id=withdrawn.offer_id,
                agent_id=withdrawn.agent_id,
                contact_id=event.contact_id or "",
                tenant_id=event.tenant_id,
                queue_id="",
                channel="",
                expires_at=event.occurred_at,
                status="withdrawn",
                offered_event_id="",
            )
        )
    elif offer.status in ("open", "accepting"):
        offer.status = "withdrawn"
        tx.session.add(offer)
    if withdrawn.reason == "not_connected" and event.contact_id:  # accepted, never connected
        contact = await tx.session.get(store.DesktopContact, event.contact_id)
        if contact is not None and contact.agent_id == withdrawn.agent_id:
            contact.agent_id, contact.status = None, "queued"
            tx.session.add(contact)
    data = {
        "offer_id": withdrawn.offer_id,
        "reason": withdrawn.reason,
        "contact_id": offer.contact_id if offer else event.contact_id,
    }
    await tell(tx, withdrawn.agent_id, "offer_withdrawn", data)


@subscriptions.on(topics.CONTACT_ASSIGNED)
async def on_contact_assigned(event: Envelope[ContactAssigned], tx: Transaction) -> None:
    assigned = event.payload
    offer = await tx.session.get(store.DesktopOffer, assigned.offer_id)
    if offer is not None:
        offer.status = "accepted"
        tx.session.add(offer)
    contact = await contact_for(tx, event)
    contact.hold(domain.assigned(contact.holding, assigned.agent_id))
    contact.queue_id = assigned.queue_id
    if contact.handed_on_by != assigned.agent_id:
        contact.handed_on_by = None
    tx.session.add(contact)
    data = {
        "contact_id": contact.contact_id,
        "offer_id": assigned.offer_id,
        "queue_id": assigned.queue_id,
        "channel": contact.channel,
        "subject": contact.subject,
    }
    await tell(tx, assigned.agent_id, "assigned", data)


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    wrapped = event.payload
    contact = await contact_for(tx, event)
    holding, its_own = domain.wrapped(contact.holding, wrapped.agent_id)
    if holding.status == "wrapped" and contact.status != "wrapped":
        contact.wrapped_at = event.occurred_at
    contact.hold(holding)
    if its_own:
        contact.disposition, contact.outcome = wrapped.disposition, wrapped.outcome
    tx.session.add(contact)
    data = {
        "contact_id": contact.contact_id,
        "disposition": wrapped.disposition,
        "outcome": wrapped.outcome,
    }
    await tell(tx, wrapped.agent_id, "wrapped", data)
    if contact.escalated_by and contact.escalated_by != wrapped.agent_id:
        outcome = {**data, "by_agent": wrapped.agent_id}
        await tell(tx, contact.escalated_by, "escalation_outcome", outcome)


@subscriptions.on(topics.CONTACT_ESCALATED)
async def on_contact_escalated(event: Envelope[ContactEscalated], tx: Transaction) -> None:
    """An agent's escalation is remembered so they hear how it ended; a breached promise is told to
    the tenant's supervisors."""
    escalated = event.payload
    contact = await contact_for(tx, event)
    data = {
        "contact_id": contact.contact_id,
        "reason": escalated.reason,
        "category": escalated.category,
        "queue_id": escalated.queue_id,
        "priority": escalated.priority,
    }
    if escalated.requested_by:
        contact.escalated_by = escalated.requested_by
        tx.session.add(contact)
        await tell(tx, escalated.requested_by, "escalated", data)
        return
    for supervisor in await store.supervisors_of(tx.session, tenant_id=event.tenant_id):
        await tell(tx, supervisor, "escalated", data)


@subscriptions.on(topics.FOLLOWUP_PROMISED)
async def on_followup_promised(event: Envelope[FollowUpPromised], tx: Transaction) -> None:
    promised = event.payload
    tx.session.add(
        store.DesktopFollowUp(
            follow_up_id=promised.follow_up_id,
            agent_id=promised.agent_id,
            contact_id=event.about_contact_id,
            tenant_id=event.tenant_id,
            due_at=promised.due_at,
            channel=promised.channel,
            note=promised.note,
        )
    )
    data = {**promised.model_dump(mode="json"), "contact_id": event.contact_id}
    await tell(tx, promised.agent_id, "follow_up", data)


@subscriptions.on(topics.FOLLOWUP_DONE)
async def on_followup_done(event: Envelope[FollowUpDone], tx: Transaction) -> None:
    follow_up = await tx.session.get(store.DesktopFollowUp, event.payload.follow_up_id)
    if follow_up is not None:
        follow_up.status = "done"
        tx.session.add(follow_up)


@subscriptions.on(topics.JOB_REQUESTED)
async def on_job_requested(event: Envelope[JobRequested], tx: Transaction) -> None:
    job = event.payload
    known = await tx.session.get(store.DesktopJob, job.job_id)  # dispatch's news came first
    row = known or store.DesktopJob(
        job_id=job.job_id,
        tenant_id=event.tenant_id,
        contact_id=event.contact_id or "",
        requested_by=job.agent_id,
        work_type=job.work_type,
        priority=job.priority,
    )
    row.window_start, row.window_end = job.window.start, job.window.end
    tx.session.add(row)
    data = {
        "job_id": job.job_id,
        "contact_id": event.contact_id,
        "status": "requested",
        "work_type": job.work_type,
        "priority": job.priority,
    }
    await tell(tx, job.agent_id, "job", data)


@subscriptions.on(topics.JOB_STATUS)
async def on_job_status(event: Envelope[JobStatusChanged], tx: Transaction) -> None:
    """Dispatch's news of a job an agent asked for (despatched, confirmed, on site, done ...),
    told to that agent: how automatic despatch is confirmed back to them."""
    change = event.payload
    if change.requested_by is None:
        return  # a dispatcher's own job
    row = await tx.session.get(store.DesktopJob, change.job_id) or store.DesktopJob(
        job_id=change.job_id,
        tenant_id=event.tenant_id,
        contact_id=event.contact_id or "",
        requested_by=change.requested_by,
        work_type=change.work_type,
        priority=change.priority,
    )
    row.status, row.technician_id = change.status, change.technician_id
    tx.session.add(row)
    told = {"job_id", "status", "technician_id", "eta", "work_type", "reason", "needs_dispatcher"}
    data = {**change.model_dump(mode="json", include=told), "contact_id": event.contact_id}
    await tell(tx, change.requested_by, "job", data)


@subscriptions.on(topics.SLA_ALERT)
async def on_sla_alert(event: Envelope[SlaAlert], tx: Transaction) -> None:
    """A promise nearly due or broken, told to the level's people and the agent holding the
    contact, unless its reason has gone by now (answered, or wrapped up)."""
    alert = event.payload
    contact = await tx.session.get(store.DesktopContact, event.about_contact_id)
    if contact is not None and domain.reason_gone(
        alert.clock,
        replied=contact.replied_at is not None,
        status=contact.status,
        outcome=contact.outcome,
    ):
        return
    data = {**alert.model_dump(mode="json"), "contact_id": event.contact_id}
    for agent_id in domain.alerted(alert.notify, contact.holding if contact else None):
        await tell(tx, agent_id, "sla", data)


@subscriptions.on(topics.FOLLOWUP_DUE)
async def on_followup_due(event: Envelope[FollowUpDue], tx: Transaction) -> None:
    """Offered first to the agent who promised it (unless they have already done it)."""
    due = event.payload
    follow_up = await tx.session.get(store.DesktopFollowUp, due.follow_up_id)
    if follow_up is not None and follow_up.status == "done":
        return
    data = {**due.model_dump(mode="json"), "contact_id": event.contact_id}
    await tell(tx, due.agent_id, "follow_up_due", data)


subscriptions.include(channel_handlers.handlers, floor_handlers.handlers, quality.handlers)
