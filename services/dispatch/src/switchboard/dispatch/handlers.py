"""Dispatch's subscribers: an agent's field-job request becomes a job, despatched at once; the DNC
gate's answers release (or stop) the messages to customers that waited on it."""

from __future__ import annotations

from switchboard.common import pacing, topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import JobRequested
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.dispatch import jobs, messages_store, opening, privacy, store
from switchboard.dispatch.context import Dispatch

SERVICE = "dispatch"
subscriptions = Subscriptions(
    SERVICE,
    promptness=pacing.UNHURRIED,  # a field job is planned in minutes
    emits=(
        topics.JOB_STATUS,
        topics.FIELDCOMM_STATUS,
        topics.FIELDCOMM_RESPONSE,
        topics.OUTBOUND_REQUESTED,
        topics.ERASURE_APPLIED,
    ),
)


@subscriptions.on(topics.CUSTOMER_CORRECTED)
async def on_customer_corrected(event: Envelope[CustomerCorrected], tx: Transaction) -> None:
    await privacy.correct(tx, event)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    await privacy.erase(tx, event, Dispatch.of(tx).settings)


@subscriptions.on(topics.JOB_REQUESTED)
async def on_job_requested(event: Envelope[JobRequested], tx: Transaction) -> None:
    requested = event.payload
    if await tx.session.get(store.Job, requested.job_id) is not None:
        return  # the same job asked for again (a replay under another event id)
    now = Dispatch.of(tx).clock.now()
    job = jobs.new_job(
        requested,
        job_id=requested.job_id,
        tenant_id=event.tenant_id,
        now=now,
        correlation_id=event.correlation_id,
        last_event_id=event.event_id,
        contact_id=event.contact_id,
        requested_by=requested.agent_id,
    )
    await opening.open_job(tx, job, now=now, actor=f"agent {requested.agent_id}", request_eta=False)


@subscriptions.on(topics.OUTBOUND_CLEARED)
async def on_outbound_cleared(event: Envelope[OutboundCleared], tx: Transaction) -> None:
    notice = await tx.session.get(messages_store.CustomerNotice, event.payload.request_id)
    if notice is None or notice.status != "requested":
        return  # not ours, or already released
    notice.status, notice.reason = "cleared", event.payload.reason
    tx.session.add(notice)
    tx.session.add(
        messages_store.Sent(
            sent_id=new_id(),
            tenant_id=notice.tenant_id,
            job_id=notice.job_id,
            to="customer",
            medium="sms",
            address=notice.number,
            subject="Your visit",
            text=notice.text,
        )
    )
    tx.after_commit(Dispatch.of(tx).wake)  # once the row is there for the loop to see


@subscriptions.on(topics.OUTBOUND_BLOCKED)
async def on_outbound_blocked(event: Envelope[OutboundBlocked], tx: Transaction) -> None:
    notice = await tx.session.get(messages_store.CustomerNotice, event.payload.request_id)
    if notice is None or notice.status != "requested":
        return
    notice.status, notice.reason = "blocked", event.payload.reason
    tx.session.add(notice)
    job = await tx.session.get(store.Job, notice.job_id)
    if job is not None:
        await store.log(
            tx.session,
            job=job,
            action="customer_not_told",
            actor="dnc gate",
            reason=f"blocked: {event.payload.reason}",
        )
