"""Routing's handlers: each changes the record and emits within the batch's transaction, then
applies the same change to the ACD once committed (see `distributor`)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import privacy, topics
from switchboard.common.compliance.dnc import mask_number
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ContactAccepted,
    ContactDeclined,
    ContactWrapped,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.intake import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
)
from switchboard.common.events.outbound import OutboundCleared, OutboundRequested
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.routing import ContactAssigned, ContactQueued
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.routing import admission, calls, early, gate, store
from switchboard.routing.distributor import Distributor, acd_of
from switchboard.routing.restore import epoch, now

SERVICE = "routing"


async def _read_ahead(session: AsyncSession, events: list[Envelope[Any]]) -> None:
    """What a batch's handlers would look up one by one, read in a few queries first: the ACD's
    rows (`store.prefetch_batch`) and the register's facts on each outbound number."""
    await store.prefetch_batch(session, events)
    await gate.read_ahead(session, events)


subscriptions = Subscriptions(
    SERVICE,
    prefetch=_read_ahead,
    emits=(
        topics.CONTACT_QUEUED,
        topics.CONTACT_NOT_ROUTED,
        topics.AGENT_OFFERED,
        topics.AGENT_OFFER_WITHDRAWN,
        topics.CONTACT_ASSIGNED,
        topics.AGENT_STATE,
        topics.QUEUE_STATS,
        topics.SUPERVISOR_ALERT,
        topics.OUTBOUND_CLEARED,
        topics.OUTBOUND_BLOCKED,
        topics.CALL_ROUTE,
        topics.CALL_CONTROL,
        topics.CALLBACK_RESULT,
        topics.ERASURE_APPLIED,
    ),
)
log = structlog.get_logger("switchboard.routing")


subscriptions.on(topics.CALL_COMMAND_RESULT)(calls.on_command_result)
subscriptions.on(topics.CONTACT_TRANSFER_REQUESTED)(calls.on_transfer_requested)
subscriptions.on(topics.CONTACT_RECEIVED)(admission.on_contact_received)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    """Routing keeps a customer's number only to call them back: it goes."""
    numbers = await store.forget_numbers(tx.session, contact_ids=event.payload.contact_ids)
    await privacy.report(tx, event, SERVICE, {"callback_numbers": numbers})


@subscriptions.on(topics.CONTACT_ACCEPTED)
async def on_contact_accepted(event: Envelope[ContactAccepted], tx: Transaction) -> None:
    acd, accepted = acd_of(tx), event.payload
    offer = await tx.session.get(store.RoutingOffer, accepted.offer_id)
    if offer is None or offer.agent_id != accepted.agent_id:
        log.warning("acceptance of an unknown offer ignored", offer_id=accepted.offer_id)
        return
    if not await store.transition(
        tx.session,
        model=store.RoutingOffer,
        key=offer.offer_id,
        from_=("offered",),
        to="accepted",
    ):
        log.info("late acceptance ignored: the offer had closed", offer_id=offer.offer_id)
        return
    entry = await tx.session.get(store.QueueEntry, offer.contact_id)
    if entry is None:
        return
    waited = max(0.0, now() - epoch(entry.enqueued_at))
    entry.status, entry.agent_id = "assigned", offer.agent_id
    entry.outcome_at, entry.waited_seconds = utcnow(), round(waited, 3)
    tx.session.add(entry)
    agent = await tx.session.get(store.RoutingAgent, offer.agent_id)
    if agent is not None:
        agent.missed_in_row = 0
        tx.session.add(agent)
    assigned = ContactAssigned(
        offer_id=offer.offer_id,
        agent_id=offer.agent_id,
        queue_id=offer.queue_id,
        waited_seconds=round(waited, 3),
    )
    await tx.emit(event.follow(assigned, aggregate_id=offer.contact_id))
    await calls.connect(tx, acd, entry, offer.offer_id)
    entry.transfer, entry.reserved_for, entry.reserved_until = None, None, None
    tx.after_commit(lambda: acd.engine.accept(offer.offer_id, now=now()))


@subscriptions.on(topics.CONTACT_DECLINED)
async def on_contact_declined(event: Envelope[ContactDeclined], tx: Transaction) -> None:
    acd, declined = acd_of(tx), event.payload
    offer = await tx.session.get(store.RoutingOffer, declined.offer_id)
    if offer is None or offer.agent_id != declined.agent_id:
        return
    if await acd.withdraw_offer(tx, offer.offer_id, "declined", exclude=True):
        tx.after_commit(lambda: acd.engine.decline(offer.offer_id, now=now()))


@subscriptions.on(topics.AGENT_STATE)
async def on_agent_state(event: Envelope[AgentStateChanged], tx: Transaction) -> None:
    acd, change = acd_of(tx), event.payload
    agent = await tx.session.get(store.RoutingAgent, change.agent_id)
    if agent is None:
        log.warning("state of an unknown agent ignored", agent_id=change.agent_id)
        return
    acd.known_agent(agent)
    if change.source == "routing":
        return  # routing's own decision, already applied when it was taken
    agent.presence, agent.break_reason = change.state, change.reason
    agent.state_since = utcnow()
    if change.state == "available":
        agent.missed_in_row = 0
    tx.session.add(agent)
    if change.state != "available":
        open_offer = await store.open_offer_of_agent(tx.session, agent_id=change.agent_id)
        if open_offer is not None:
            await acd.withdraw_offer(tx, open_offer.offer_id, "agent_unavailable")
    tx.after_commit(
        lambda: acd.engine.set_presence(
            change.agent_id, change.state, reason=change.reason, now=now()
        )
    )


async def on_call_abandoned(event: Envelope[CallAbandoned], tx: Transaction) -> None:
    """A caller who hangs up leaves the line, and any offer of their call is withdrawn."""
    await _leave_line(tx, event.aggregate_id, "abandoned")


async def on_call_answered(event: Envelope[CallAnswered], tx: Transaction) -> None:
    """A call answered at the PBX while it waits in our line (by someone the ACD did not choose)
    is no longer waiting: it leaves the line. One answered after our assignment is that agent's."""
    await _leave_line(tx, event.aggregate_id, "answered_at_pbx")


async def on_call_ended(event: Envelope[CallEnded], tx: Transaction) -> None:
    """An assigned call ends: its agent wraps it up. A call that ends while still waiting (answered
    and finished at the PBX, or dropped) leaves the line, never to be offered."""
    acd = acd_of(tx)
    entry = await tx.session.get(store.QueueEntry, event.aggregate_id)
    if entry is not None and entry.callback_number:
        return  # the caller asked to be called back: this was their first call ending
    if entry is not None and entry.status in store.LIVE:
        await _leave_line(tx, entry.contact_id, "ended")
        return
    if entry is None or entry.status != "assigned" or entry.agent_id is None:
        return
    entry.status = "wrap_up"
    tx.session.add(entry)
    agent_id = entry.agent_id
    tx.after_commit(lambda: acd.engine.call_ended(entry.contact_id, agent_id, now=now()))


for _topic, _handle in (
    (topics.CALL_ANSWERED, on_call_answered),
    (topics.CALL_ABANDONED, on_call_abandoned),
    (topics.CALL_ENDED, on_call_ended),
    (topics.CALL_CALLBACK_REQUESTED, calls.on_callback_requested),
):
    subscriptions.on(_topic)(early.after_the_call(_topic, _handle))


async def _leave_line(tx: Transaction, contact_id: str, outcome: str) -> None:
    acd = acd_of(tx)
    entry = await tx.session.get(store.QueueEntry, contact_id)
    if entry is None or entry.status not in store.LIVE or entry.callback_number:
        return  # gone already, or a callback (the caller hung up to be called back)
    open_offer = await store.open_offer_of(tx.session, contact_id=contact_id)
    if open_offer is not None:
        await acd.withdraw_offer(tx, open_offer.offer_id, outcome)
    entry.status, entry.outcome_at = outcome, utcnow()
    entry.waited_seconds = round(max(0.0, now() - epoch(entry.enqueued_at)), 3)
    tx.session.add(entry)
    abandoned = outcome == "abandoned"
    tx.after_commit(lambda: acd.engine.withdraw(contact_id, now=now(), abandoned=abandoned))


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    acd, wrapped = acd_of(tx), event.payload
    contact_id = event.aggregate_id
    # An agent who stayed on through a warm transfer or a conference is free once they wrap up.
    tx.after_commit(lambda: acd.engine.wrapped(contact_id, wrapped.agent_id, now=now()))
    entry = await tx.session.get(store.QueueEntry, contact_id)
    if entry is None or entry.agent_id != wrapped.agent_id:
        return
    if entry.callback_retry_at is not None:
        await calls.try_again(tx, acd, entry)
        return
    entry.status = "wrapped"
    tx.session.add(entry)


@subscriptions.on(topics.CONTACT_ESCALATED)
async def on_contact_escalated(event: Envelope[ContactEscalated], tx: Transaction) -> None:
    """Re-queue with the new priority or queue; the contact keeps its place in time."""
    acd, escalated = acd_of(tx), event.payload
    entry = await tx.session.get(store.QueueEntry, event.aggregate_id)
    agents_own = (
        escalated.requested_by is not None
        and entry is not None
        and entry.agent_id == escalated.requested_by
        and entry.status in ("assigned", "wrap_up", "wrapped")
    )
    reopened = escalated.reopen and entry is not None and entry.status == "wrapped"
    if entry is not None and (agents_own or reopened):
        await _transfer(tx, acd, entry, event)
        return
    if entry is None or entry.status not in store.LIVE:
        return
    tenant = acd.tenants.get(entry.tenant_id)
    queue_id = escalated.queue_id if tenant and escalated.queue_id in tenant.queues else None
    open_offer = await store.open_offer_of(tx.session, contact_id=entry.contact_id)
    if open_offer is not None:
        await acd.withdraw_offer(tx, open_offer.offer_id, "escalated")
    entry.priority = escalated.priority or entry.priority
    entry.queue_id = queue_id or entry.queue_id
    tx.session.add(entry)
    queue = tenant.queues.get(entry.queue_id) if tenant else None
    queued = ContactQueued(
        queue_id=entry.queue_id,
        priority=entry.priority,
        reason=f"escalated: {escalated.reason}",
        service_level_seconds=queue.service_level_seconds if queue else None,
        channel=entry.channel,
    )
    await tx.emit(event.follow(queued))
    contact_id = entry.contact_id
    tx.after_commit(
        lambda: acd.engine.escalate(
            contact_id, priority=escalated.priority, queue_id=queue_id, now=now()
        )
    )


async def _transfer(
    tx: Transaction, acd: Distributor, entry: store.QueueEntry, event: Envelope[ContactEscalated]
) -> None:
    """An agent escalated the contact they held: their part ends (their `contact.wrapped`, on
    another topic, may come before or after this), and the contact joins the target queue as a new
    wait, not offered back to that agent. Or a wrapped contact is reopened (an overdue follow-up)."""
    escalated = event.payload
    tenant = acd.tenants.get(entry.tenant_id)
    if tenant is None or escalated.queue_id not in tenant.queues:
        log.warning("escalation to an unknown queue ignored", queue_id=escalated.queue_id)
        return
    reason = f"escalated by {escalated.requested_by or 'escalation'}: {escalated.reason}"
    await calls.hand_on(
        tx,
        acd,
        entry,
        queue_id=escalated.queue_id,
        priority=escalated.priority or entry.priority,
        reason=reason,
        by=escalated.requested_by,
        keep_holder=False,
        cause=event,
    )


@subscriptions.on(topics.OUTBOUND_REQUESTED)
async def on_outbound_requested(event: Envelope[OutboundRequested], tx: Transaction) -> None:
    """The Do Not Call gate: every outbound contact is cleared or blocked, with the reason."""
    answer = await gate.decide_outbound(tx.session, event)
    await tx.emit(event.follow(answer))
    outcome = "cleared" if isinstance(answer, OutboundCleared) else "blocked"
    log.info(
        "outbound decision",
        number=mask_number(answer.number),
        outcome=outcome,
        reason=answer.reason,
    )
