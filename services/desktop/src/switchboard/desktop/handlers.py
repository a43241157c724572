"""The desktop's subscribers: each event meant for an agent goes into that agent's inbox (which
their stream replays), and the desktop's view of contacts, offers and queues follows the events."""

from __future__ import annotations

import functools
from typing import Any

from opentelemetry import propagate

from switchboard.common import mail as outgoing
from switchboard.common import topics
from switchboard.common.db import per_session
from switchboard.common.envelope import Envelope
from switchboard.common.events.channels import (
    CallbackResult,
    CallControl,
    ChatActivity,
    ChatMessage,
)
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    JobRequested,
    ReplySent,
)
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.escalation import ContactEscalated, FollowUpDue, SlaAlert
from switchboard.common.events.intake import ContactReceived
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
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
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.desktop import domain, mail, privacy, rosters, store
from switchboard.desktop.context import Desktop

SERVICE = "desktop"
subscriptions = Subscriptions(
    SERVICE,
    prefetch=store.prefetch,
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


async def tell(tx: Transaction, agent_id: str, event_type: str, data: dict[str, Any]) -> None:
    """Put an event in the agent's inbox, with the rest of the batch's when it finishes, and wake
    their open streams once it is committed."""
    inbox = per_session(tx.session, store.PendingInbox)
    inbox.entries.append((agent_id, event_type, data))

    async def deliver() -> None:
        wakeups = Desktop.of(tx).wakeups
        for agent in await inbox.write():
            tx.after_commit(functools.partial(wakeups.wake, agent))

    if len(inbox.entries) == 1:  # the batch's first: deliver them all before it commits
        tx.before_commit(deliver)


async def _contact(tx: Transaction, event: Envelope[Any]) -> store.DesktopContact:
    row = await store.contact_row(
        tx.session,
        event.about_contact_id,
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
    )
    if row.trace_parent is None:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        row.trace_parent = headers.get("traceparent")
    return row


@subscriptions.on(topics.CONTACT_RECEIVED)
async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None:
    contact, received = await _contact(tx, event), event.payload
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
    contact = await _contact(tx, event)
    contact.queue_id = event.payload.queue_id
    if contact.status in ("received", "offered"):
        contact.status = "queued"
    tx.session.add(contact)


@subscriptions.on(topics.AGENT_OFFERED)
async def on_agent_offered(event: Envelope[AgentOffered], tx: Transaction) -> None:
    offer = event.payload
    contact = await _contact(tx, event)
    contact.queue_id, contact.channel = offer.queue_id, contact.channel or offer.channel
    tx.session.add(contact)
    tx.session.add(
        store.DesktopOffer(
            offer_id=offer.offer_id,
            agent_id=offer.agent_id,
            contact_id=contact.contact_id,
            tenant_id=event.tenant_id,
            queue_id=offer.queue_id,
            channel=offer.channel,
            expires_at=offer.expires_at,
            offered_event_id=event.event_id,
        )
    )
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
    if offer is not None and offer.status in ("open", "accepting"):
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
    contact = await _contact(tx, event)
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
    contact = await _contact(tx, event)
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
    contact = await _contact(tx, event)
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
    for supervisor in await store.supervisors_of(tx.session, event.tenant_id):
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
    row = known or store.DesktopJob(job_id=job.job_id, tenant_id=event.tenant_id,
                                    contact_id=event.contact_id or "", requested_by=job.agent_id,
                                    work_type=job.work_type, priority=job.priority)  # fmt: skip
    row.window_start, row.window_end = job.window.start, job.window.end
    tx.session.add(row)
    data = {"job_id": job.job_id, "contact_id": event.contact_id, "status": "requested",
            "work_type": job.work_type, "priority": job.priority}  # fmt: skip
    await tell(tx, job.agent_id, "job", data)


@subscriptions.on(topics.JOB_STATUS)
async def on_job_status(event: Envelope[JobStatusChanged], tx: Transaction) -> None:
    """Dispatch's news of a job an agent asked for (despatched, confirmed, on site, done ...),
    told to that agent: how automatic despatch is confirmed back to them."""
    change = event.payload
    if change.requested_by is None:
        return  # a dispatcher's own job
    row = await tx.session.get(store.DesktopJob, change.job_id) or store.DesktopJob(
        job_id=change.job_id, tenant_id=event.tenant_id, contact_id=event.contact_id or "",
        requested_by=change.requested_by, work_type=change.work_type, priority=change.priority,
    )  # fmt: skip
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


@subscriptions.on(topics.AGENT_STATE)
async def on_agent_state(event: Envelope[AgentStateChanged], tx: Transaction) -> None:
    change = event.payload
    agent = await tx.session.get(store.DesktopAgent, change.agent_id)
    if agent is None:
        return
    agent.state, agent.state_reason, agent.state_since = (
        change.state,
        change.reason,
        event.occurred_at,
    )
    tx.session.add(agent)
    data = {"state": change.state, "reason": change.reason, "source": change.source}
    await tell(tx, change.agent_id, "state", data)


@subscriptions.on(topics.QUEUE_STATS)
async def on_queue_stats(event: Envelope[QueueStatistics], tx: Transaction) -> None:
    stats = event.payload
    row = await tx.session.get(store.QueueFigures, (event.tenant_id, stats.queue_id))
    if row is not None and row.updated_at >= event.occurred_at:
        return  # an older figure delivered late
    row = row or store.QueueFigures(tenant_id=event.tenant_id, queue_id=stats.queue_id, figures={})
    row.figures = stats.model_dump(mode="json")
    row.updated_at = event.occurred_at
    tx.session.add(row)


@subscriptions.on(topics.SUPERVISOR_ALERT)
async def on_supervisor_alert(event: Envelope[SupervisorAlert], tx: Transaction) -> None:
    alert = event.payload
    for supervisor in await store.supervisors_of(tx.session, event.tenant_id):
        await tell(tx, supervisor, "alert", alert.model_dump(mode="json"))


@subscriptions.on(topics.OUTBOUND_CLEARED)
async def on_outbound_cleared(event: Envelope[OutboundCleared], tx: Transaction) -> None:
    """The gate's answer is told to the agent; a reply it cleared is sent now, and only now counts
    as a reply: an SMS or a fax goes to the channel system (intake hands the `contact.replied` on),
    a call back is dialled from the agent's extension (`call.control`)."""
    await _outbound_answer(tx, event.payload.request_id, "cleared", event.payload.reason)
    asked = await tx.session.get(store.OutboundByAgent, event.payload.request_id)
    if asked is None or asked.channel not in ("sms", "fax", "call"):
        return  # another requester's, or a request from before replies were kept
    sent = ReplySent(
        agent_id=asked.agent_id,
        channel="phone" if asked.channel == "call" else asked.channel,
        to=event.payload.number,
        text=asked.text or "",
        outbound_request_id=asked.request_id,
    )
    if asked.channel == "call":
        agent = await tx.session.get(store.DesktopAgent, asked.agent_id)
        if agent is None or not agent.extension:
            reason = "you have no phone extension to call from: ask a team leader"
            await _outbound_answer(tx, asked.request_id, "not_dialled", reason)
            return
        dial = CallControl(
            command_id=asked.request_id,
            call_id=f"reply:{asked.request_id}",
            action="dial",
            extension=agent.extension,
            target=event.payload.number,
            requested_by=f"agent {asked.agent_id}",
            agent_id=asked.agent_id,
        )
        await tx.emit(event.follow(dial, aggregate_id=asked.contact_id))
    await tx.emit(event.follow(sent, aggregate_id=asked.contact_id))


@subscriptions.on(topics.OUTBOUND_BLOCKED)
async def on_outbound_blocked(event: Envelope[OutboundBlocked], tx: Transaction) -> None:
    await _outbound_answer(tx, event.payload.request_id, "blocked", event.payload.reason)


async def _outbound_answer(tx: Transaction, request_id: str, decision: str, reason: str) -> None:
    """The DNC gate's answer to an agent's call or fax, told to that agent."""
    asked = await tx.session.get(store.OutboundByAgent, request_id)
    if asked is None:
        return  # another requester's (a campaign, dispatch)
    data = {
        "request_id": request_id,
        "contact_id": asked.contact_id,
        "decision": decision,
        "reason": reason,
    }
    await tell(tx, asked.agent_id, "outbound", data)


@subscriptions.on(topics.CONTACT_REPLIED)
async def on_contact_replied(event: Envelope[ReplySent], tx: Transaction) -> None:
    """An email reply is sent once its event is committed: at least once, and as the same message
    (the same Message-ID) every time, which mail systems and the sink treat as one."""
    reply = event.payload
    contact = await tx.session.get(store.DesktopContact, event.aggregate_id)
    if contact is not None and contact.replied_at is None:
        contact.replied_at = event.occurred_at
        tx.session.add(contact)
    if contact is not None and reply.channel == "chat":
        await _chat_line(
            tx,
            contact,
            event.event_id,
            {"from": "agent", "agent_id": reply.agent_id, "text": reply.text},
        )
    if reply.channel != "email":
        return
    sender = contact.destination if contact and contact.destination else "noreply@localhost"
    await outgoing.send(Desktop.of(tx).mailer, mail.compose(reply, sender=sender))


async def _chat_line(
    tx: Transaction, contact: store.DesktopContact, line_id: str, line: dict[str, Any]
) -> None:
    """A chat line on the contact's transcript (once), told to whoever holds the contact."""
    transcript = list(contact.transcript or [])
    if any(entry.get("id") == line_id for entry in transcript):
        return
    transcript.append({"id": line_id, **line})
    contact.transcript = transcript
    tx.session.add(contact)
    for agent_id in {contact.agent_id, *(contact.also_held or [])} - {None}:
        await tell(tx, str(agent_id), "chat", {"contact_id": contact.contact_id, **line})


@subscriptions.on(topics.CHAT_MESSAGE)
async def on_chat_message(event: Envelope[ChatMessage], tx: Transaction) -> None:
    message = event.payload
    contact = await _contact(tx, event)
    line = {
        "from": "customer",
        "seq": message.seq,
        "text": message.text,
        "at": message.at.isoformat(),
    }
    await _chat_line(tx, contact, event.event_id, line)


@subscriptions.on(topics.CHAT_ACTIVITY)
async def on_chat_activity(event: Envelope[ChatActivity], tx: Transaction) -> None:
    """The customer typing, gone, back, or shown the agent's message: told to the agent."""
    activity = event.payload
    if activity.by != "customer":
        return
    contact = await tx.session.get(store.DesktopContact, event.about_contact_id)
    if contact is None or contact.agent_id is None or contact.status != "assigned":
        return
    data = {"contact_id": contact.contact_id, "kind": activity.kind, "seq": activity.seq}
    await tell(tx, contact.agent_id, "chat_activity", data)


@subscriptions.on(topics.CALLBACK_RESULT)
async def on_callback_result(event: Envelope[CallbackResult], tx: Transaction) -> None:
    result = event.payload
    if result.agent_id:
        data = {**result.model_dump(mode="json"), "contact_id": event.about_contact_id}
        await tell(tx, result.agent_id, "callback", data)


@subscriptions.on(topics.WORKFORCE_SCHEDULE)
async def on_schedule(event: Envelope[SchedulePublished], tx: Transaction) -> None:
    """A published day of the agent's roster: kept, and shown on their desktop at once."""
    day = event.payload
    await tx.session.merge(rosters.AgentSchedule(
        agent_id=day.agent_id, day=day.day, roster_id=day.roster_id, leave=day.leave,
        activities=[a.model_dump(mode="json") for a in day.activities],
        published_at=event.occurred_at,
    ))  # fmt: skip
    await tell(tx, day.agent_id, "schedule", day.model_dump(mode="json"))


@subscriptions.on(topics.WORKFORCE_ADHERENCE)
async def on_adherence(event: Envelope[AdherenceChanged], tx: Transaction) -> None:
    report = event.payload
    await rosters.keep_latest(tx.session, rosters.AgentAdherence(
        agent_id=report.agent_id, tenant_id=event.tenant_id,
        figures=report.model_dump(mode="json"), measured_at=event.occurred_at,
    ))  # fmt: skip


@subscriptions.on(topics.WORKFORCE_INTRADAY)
async def on_intraday(event: Envelope[IntradayPicture], tx: Transaction) -> None:
    await rosters.keep_latest(tx.session, rosters.TenantDay(
        tenant_id=event.tenant_id, picture=event.payload.model_dump(mode="json"),
        measured_at=event.occurred_at,
    ))  # fmt: skip
