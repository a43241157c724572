"""Escalation's subscribers: a queued contact starts the clocks of the policy it falls under; a
reply, an assignment or a resolving wrap-up stops the clocks it satisfies; promised follow-ups and
complaints get clocks of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opentelemetry import propagate

from switchboard.common import pacing, privacy, topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import (
    ComplaintRaised,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ReplySent,
)
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.quality import CoachingPlanned
from switchboard.common.events.routing import ContactAssigned, ContactQueued
from switchboard.common.ids import new_id
from switchboard.common.promises_config import ClockConfig, ComplaintPolicyConfig
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.escalation import coaching, domain, promises, store
from switchboard.escalation.context import Escalation

SERVICE = "escalation"
subscriptions = Subscriptions(
    SERVICE,
    promptness=pacing.UNHURRIED,  # its clocks run for minutes or hours
    prefetch=store.watched_contacts,
    emits=(
        topics.CONTACT_ESCALATED,
        topics.SLA_ALERT,
        topics.FOLLOWUP_DUE,
        topics.SUPERVISOR_ALERT,
        topics.ERASURE_APPLIED,
    ),
)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    """Escalation keeps promises about contacts by id and time only: nothing of the customer's
    to erase, which it says so the request's report is whole."""
    await privacy.report(tx, event, SERVICE, {})


def _at(tx: Transaction, event: Envelope[Any]) -> datetime:
    """When the event happened, on escalation's clock."""
    return Escalation.of(tx).clock.shift(event.occurred_at)


async def _watched(tx: Transaction, event: Envelope[Any]) -> store.WatchedContact:
    contact_id = event.about_contact_id
    contact = await store.watched_contact(tx.session, contact_id=contact_id)
    if contact is None:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        contact = store.WatchedContact(
            contact_id=contact_id,
            tenant_id=event.tenant_id,
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
            trace_parent=headers.get("traceparent"),
        )
        tx.session.add(contact)
    return contact


WALK_IN = "walk_in"
"""A customer at the counter is answered there and then: no service-level clock starts for them
(their follow-ups and complaints keep their own)."""


@subscriptions.on(topics.CONTACT_QUEUED)
async def on_contact_queued(event: Envelope[ContactQueued], tx: Transaction) -> None:
    """The first queueing starts the contact's SLA clocks under the policy version current now; a
    later one (a transfer, an escalation) moves the contact but not its promises."""
    queued = event.payload
    contact = await _watched(tx, event)
    first = contact.queue_id is None
    contact.queue_id, contact.priority = queued.queue_id, queued.priority
    contact.channel = contact.channel or queued.channel
    tx.session.add(contact)
    tenant = await tx.session.get(store.EscalationTenant, event.tenant_id)
    if not first or tenant is None or contact.channel == WALK_IN:
        return
    for policy in await store.current_policies(tx.session, tenant_id=event.tenant_id):
        if not domain.matches(
            policy.definition,
            queue_id=contact.queue_id,
            channel=contact.channel,
            priority=contact.priority,
        ):
            continue
        share = policy.definition["warn_at_percent"] / 100
        for kind in ("first_response", "resolution"):
            if policy.definition[kind] is not None:
                config = ClockConfig.model_validate(policy.definition[kind])
                promises.start(
                    tx,
                    tenant,
                    contact,
                    kind,
                    config,
                    _at(tx, event),
                    warn_share=share,
                    policy=policy,
                )
        break
    for reason, at in contact.stops_seen.items():  # handled before this first queueing
        await promises.stop(tx, contact.contact_id, reason, datetime.fromisoformat(at))


async def _stops(tx: Transaction, event: Envelope[Any], reason: str) -> None:
    """The contact's running clocks that `reason` stops are met; the reason is kept, for clocks
    a first queueing handled after this starts."""
    contact, at = await _watched(tx, event), _at(tx, event)
    contact.stops_seen = domain.first_seen(contact.stops_seen, reason, at)
    tx.session.add(contact)
    await promises.stop(tx, contact.contact_id, reason, at)


@subscriptions.on(topics.CONTACT_REPLIED)
async def on_contact_replied(event: Envelope[ReplySent], tx: Transaction) -> None:
    await _stops(tx, event, "human_reply")


@subscriptions.on(topics.CONTACT_ASSIGNED)
async def on_contact_assigned(event: Envelope[ContactAssigned], tx: Transaction) -> None:
    await _stops(tx, event, "assigned")


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    if event.payload.outcome in domain.RESOLVED:
        await _stops(tx, event, "resolved")


@subscriptions.on(topics.FOLLOWUP_PROMISED)
async def on_followup_promised(event: Envelope[FollowUpPromised], tx: Transaction) -> None:
    """Due at the promised time (offered to the agent who promised it), escalated if not started
    within the tenant's grace; met already if its keeping was applied first (the two travel on
    different topics)."""
    promised = event.payload
    contact = await _watched(tx, event)
    tenant = await tx.session.get(store.EscalationTenant, event.tenant_id)
    if tenant is None:
        return
    clock = store.Clock(
        clock_id=new_id(),
        contact_id=contact.contact_id,
        tenant_id=contact.tenant_id,
        kind="follow_up",
        ref=promised.follow_up_id,
        owner=promised.agent_id,
        channel=promised.channel,
        within=tenant.config["follow_up_grace"],
        measure="calendar",
        stops_on=["follow_up_done"],
        started_at=_at(tx, event),
        due_at=promised.due_at,
    )
    tx.session.add(clock)
    kept_at = contact.stops_seen.get(_kept(promised.follow_up_id))
    if kept_at is not None:
        clock.state, clock.stopped_at = "met", datetime.fromisoformat(kept_at)
        return
    promises.schedule(tx, clock, promised.due_at, "due")
    grace = domain.grace_after(promised.due_at, tenant.config["follow_up_grace"])
    promises.schedule(tx, clock, grace, "breach")


@subscriptions.on(topics.FOLLOWUP_DONE)
async def on_followup_done(event: Envelope[FollowUpDone], tx: Transaction) -> None:
    """The follow-up's clock is met; the keeping is noted with the contact, for a promise applied
    after it."""
    follow_up_id, at = event.payload.follow_up_id, _at(tx, event)
    contact = await _watched(tx, event)
    contact.stops_seen = domain.first_seen(contact.stops_seen, _kept(follow_up_id), at)
    tx.session.add(contact)
    await promises.stop_ref(tx, follow_up_id, at)


def _kept(follow_up_id: str) -> str:
    """The stop a follow-up's keeping is noted under with its contact."""
    return f"follow_up_done:{follow_up_id}"


@subscriptions.on(topics.COMPLAINT_RAISED)
async def on_complaint_raised(event: Envelope[ComplaintRaised], tx: Transaction) -> None:
    """The complaint policy's two clocks: acknowledge, then respond."""
    contact = await _watched(tx, event)
    tenant = await tx.session.get(store.EscalationTenant, event.tenant_id)
    if tenant is None:
        return
    policy = ComplaintPolicyConfig.model_validate(tenant.config["complaints"])
    for kind, config in (
        ("complaint_acknowledge", policy.acknowledge),
        ("complaint_respond", policy.respond),
    ):
        promises.start(
            tx,
            tenant,
            contact,
            kind,
            config,
            _at(tx, event),
            warn_share=0.75,
            ref=event.payload.complaint_id,
        )


@subscriptions.on(topics.QUALITY_COACHING)
async def on_coaching(event: Envelope[CoachingPlanned], tx: Transaction) -> None:
    """A coaching session's follow-up date, kept like a customer's follow-up."""
    await coaching.apply(tx, event, _at(tx, event))
