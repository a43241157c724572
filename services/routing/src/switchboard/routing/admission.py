"""A new contact's way into line: the tenant's routing rules classify it (or refuse it, with the
reason), admission picks the queue (or turns it away when the queues are full or closed), and the
contact is recorded in line and queued; a walk-in is the logging agent's at once."""

from __future__ import annotations

from opentelemetry import propagate

from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.intake import ContactReceived
from switchboard.common.events.routing import ContactAssigned, ContactNotRouted, ContactQueued
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.routing import domain, early, store
from switchboard.routing.distributor import Distributor, acd_of
from switchboard.routing.restore import now, waiting_of


async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None:
    acd, contact = acd_of(tx), event.payload
    tenant = await acd.known_tenant(tx.session, event.tenant_id)
    if tenant is None:
        await _not_routed(tx, event, f"tenant {event.tenant_id!r} has no routing configuration")
        return
    decision = domain.classify(
        _traits(contact), queues=list(tenant.queues.values()), rules=tenant.rules
    )
    if isinstance(decision, domain.DoNotRoute):
        await _not_routed(tx, event, decision.reason)
        return
    if contact.walk_in is not None:  # the customer is at the counter with the agent already
        await _served_at_counter(tx, acd, event, decision)
        return
    admission = domain.admit(
        decision,
        queues=tenant.queues,
        waiting={q: acd.engine.waiting_count((event.tenant_id, q)) for q in tenant.queues},
        local=utcnow().astimezone(tenant.timezone),
    )
    if admission.queue_id is None:
        await _not_routed(tx, event, admission.reason)
        return
    queued = ContactQueued(
        queue_id=admission.queue_id,
        priority=decision.priority,
        reason=admission.reason,
        service_level_seconds=tenant.queues[admission.queue_id].service_level_seconds,
        channel=contact.channel,
    )
    queued_event = event.follow(queued)
    entry = _entry(event, queued_event, decision.rule)
    tx.session.add(entry)
    await tx.emit(queued_event)

    def apply() -> None:
        acd.remember(entry)
        acd.engine.enqueue(waiting_of(entry))

    tx.after_commit(apply)
    if contact.phone is not None:
        await early.apply_kept(tx, entry.contact_id)


async def _not_routed(tx: Transaction, event: Envelope[ContactReceived], reason: str) -> None:
    """The contact is refused, with the reason. A call refused leaves an entry that says so, where
    its later events (`early`) find it gone instead of being kept for a call still to come."""
    refused = event.follow(ContactNotRouted(reason=reason))
    await tx.emit(refused)
    if event.payload.phone is None:
        return
    tx.session.add(
        store.QueueEntry(
            contact_id=event.aggregate_id,
            tenant_id=event.tenant_id,
            queue_id="",
            channel=event.payload.channel,
            priority=0,
            correlation_id=event.correlation_id,
            queued_event_id=refused.event_id,
            status="not_routed",
            outcome_at=utcnow(),
        )
    )
    await early.apply_kept(tx, event.aggregate_id)


async def _served_at_counter(
    tx: Transaction, acd: Distributor, event: Envelope[ContactReceived], decision: domain.Route
) -> None:
    """A walk-in is the logging agent's from the start: recorded in its queue (for the figures),
    assigned without an offer, and counted on the agent's capacity until they wrap it up."""
    walk_in = event.payload.walk_in
    assert walk_in is not None
    queued = event.follow(
        ContactQueued(
            queue_id=decision.queue_id,
            priority=decision.priority,
            reason=f"walk-in served at the counter by {walk_in.agent_id}",
            channel="walk_in",
        )
    )
    entry = _entry(event, queued, decision.rule)
    entry.status, entry.agent_id, entry.enqueued_at = (
        "assigned",
        walk_in.agent_id,
        walk_in.started_at,
    )
    entry.outcome_at, entry.waited_seconds = utcnow(), 0.0
    tx.session.add(entry)
    await tx.emit(queued)
    assigned = ContactAssigned(
        offer_id=new_id(), agent_id=walk_in.agent_id, queue_id=decision.queue_id, waited_seconds=0.0
    )
    await tx.emit(event.follow(assigned))
    acd.remember(entry)
    tx.after_commit(
        lambda: acd.engine.hold(entry.contact_id, walk_in.agent_id, "walk_in", now=now())
    )


def _entry(
    event: Envelope[ContactReceived], queued: Envelope[ContactQueued], rule: str
) -> store.QueueEntry:
    """The contact's life in routing, from the queue it was put in, in the contact's trace."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    contact = event.payload
    return store.QueueEntry(
        contact_id=event.aggregate_id,
        tenant_id=event.tenant_id,
        queue_id=queued.payload.queue_id,
        channel=contact.channel,
        priority=queued.payload.priority,
        rule=rule,
        correlation_id=event.correlation_id,
        queued_event_id=queued.event_id,
        trace_parent=headers.get("traceparent"),
        call_id=contact.phone.call_id if contact.phone else None,
    )


def _traits(contact: ContactReceived) -> domain.ContactTraits:
    phone = contact.phone
    extra = contact.customer.model_extra or {}
    return domain.ContactTraits(
        channel=contact.channel,
        destination=contact.destination,
        ivr=phone.ivr_selections if phone else (),
        text=f"{contact.subject or ''}\n{contact.text}",
        tier=extra.get("tier"),
        language=(phone.language if phone else None) or extra.get("language"),
        flags=contact.flags,
    )
