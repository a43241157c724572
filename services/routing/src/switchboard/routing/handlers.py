"""Routing's handlers: decide (domain) → store → emit, within the batch's transaction."""

from __future__ import annotations

import structlog

from switchboard.common import topics
from switchboard.common.compliance.dnc import mask_number
from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived
from switchboard.common.events.outbound import OutboundCleared, OutboundRequested
from switchboard.common.events.routing import ContactNotRouted, ContactQueued
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.routing import domain, gate, store

SERVICE = "routing"
subscriptions = Subscriptions(SERVICE)
log = structlog.get_logger("switchboard.routing")


@subscriptions.on(topics.CONTACT_RECEIVED)
async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None:
    contact = event.payload
    decision = domain.classify(
        channel=contact.channel,
        flags=contact.flags,
        queues=await store.queue_rules(tx.session, tenant_id=event.tenant_id),
    )
    if isinstance(decision, domain.DoNotRoute):
        await tx.emit(event.follow(ContactNotRouted(reason=decision.reason)))
        return
    await store.enqueue(
        tx.session,
        contact_id=event.aggregate_id,
        tenant_id=event.tenant_id,
        queue_id=decision.queue_id,
        channel=contact.channel,
        priority=decision.priority,
    )
    queued = ContactQueued(
        queue_id=decision.queue_id, priority=decision.priority, reason=decision.reason
    )
    await tx.emit(event.follow(queued))


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
