"""Workforce's subscribers: the history per interval (offered, answered, abandoned, handle time)
from the contacts' events, and each agent's presence as spans of time. A contact is answered
once: by an agent's acceptance (`contact.assigned`) or at the PBX (`call.answered`), whichever
came first."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import pacing, prefetch, topics
from switchboard.common.envelope import Envelope, aware
from switchboard.common.events.desktop import AgentStateChanged, ContactWrapped
from switchboard.common.events.intake import CallAbandoned, CallAnswered
from switchboard.common.events.routing import ContactAssigned, ContactQueued
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.workforce import domain, planning, store
from switchboard.workforce.context import Workforce

SERVICE = "workforce"


async def _tracks(session: AsyncSession, events: list[Envelope[Any]]) -> None:
    """Every event here but an agent's state is about a contact's track."""
    contacts = [e.about_contact_id for e in events if not isinstance(e.payload, AgentStateChanged)]
    await prefetch.load(session, store.ContactTrack, contacts)


subscriptions = Subscriptions(
    SERVICE,
    promptness=pacing.UNHURRIED,  # its interval figures and adherence are read later
    prefetch=_tracks,
    emits=(
        topics.WORKFORCE_SCHEDULE,
        topics.WORKFORCE_ADHERENCE,
        topics.WORKFORCE_INTRADAY,
        topics.SUPERVISOR_ALERT,
    ),
)


Fold = Callable[[domain.ContactFacts], domain.ContactFacts]


async def _tell(tx: Transaction, event: Envelope[Any], fold: Fold) -> None:
    """Fold one event into what is known of its contact, and move the interval's figures from
    what the contact counted before to what it counts now. A duplicate changes nothing; events
    of one contact on different topics may come in any order and still count once, rightly."""
    contact_id = event.about_contact_id
    track = await prefetch.find(tx.session, store.ContactTrack, contact_id)
    if track is None:
        track = store.ContactTrack(contact_id=contact_id, tenant_id=event.tenant_id)
    before = store.facts_of(track)
    after = fold(before)
    if after == before:
        return
    slot = track.slot
    if after.queued_at != before.queued_at:
        assert after.queued_at is not None
        cal = await planning.calendar(tx.session, track.tenant_id)
        if cal is None:
            return  # a tenant workforce does not plan for
        interval = cal.config.interval_minutes
        slot = cal.utc(domain.local_slot(after.queued_at, cal.zone, interval))
    await _count(tx, track, before, -1)
    store.set_facts(track, after, slot=slot)
    tx.session.add(track)
    await _count(tx, track, after, +1)


async def _count(
    tx: Transaction, track: store.ContactTrack, facts: domain.ContactFacts, sign: int
) -> None:
    if track.slot is None or facts.queue_id is None or facts.channel is None:
        return
    queue = await tx.session.get(store.WorkforceQueue, (track.tenant_id, facts.queue_id))
    target = queue.service_level_seconds if queue is not None else None
    figures = domain.contact_figures(facts, target_seconds=target)
    stat = await store.stat(
        tx.session,
        tenant_id=track.tenant_id,
        queue_id=facts.queue_id,
        channel=facts.channel,
        slot=track.slot,
    )
    store.add_figures(stat, figures, sign=sign)


@subscriptions.on(topics.CONTACT_QUEUED)
async def on_contact_queued(event: Envelope[ContactQueued], tx: Transaction) -> None:
    """A contact's first queueing counts as offered to that queue in that interval; a re-queue
    (transfer, escalation) is later, so does not count again."""
    queue_id, channel = event.payload.queue_id, event.payload.channel or "email"
    at = aware(event.occurred_at)
    await _tell(tx, event, partial(domain.queued, queue_id=queue_id, channel=channel, at=at))


@subscriptions.on(topics.CONTACT_ASSIGNED)
async def on_contact_assigned(event: Envelope[ContactAssigned], tx: Transaction) -> None:
    at, waited = aware(event.occurred_at), event.payload.waited_seconds
    await _tell(tx, event, partial(domain.answered, at=at, waited=waited))


@subscriptions.on(topics.CALL_ANSWERED)
async def on_call_answered(event: Envelope[CallAnswered], tx: Transaction) -> None:
    """A call answered at the PBX while it waited in line counts as answered there and then."""
    await _tell(tx, event, partial(domain.answered, at=aware(event.payload.at), waited=None))


@subscriptions.on(topics.CALL_ABANDONED)
async def on_call_abandoned(event: Envelope[CallAbandoned], tx: Transaction) -> None:
    await _tell(tx, event, partial(domain.abandoned, at=aware(event.payload.at)))


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    """Handle time: from the answer to the end of the after-contact work."""
    await _tell(tx, event, partial(domain.wrapped, at=aware(event.occurred_at)))


@subscriptions.on(topics.AGENT_STATE)
async def on_agent_state(event: Envelope[AgentStateChanged], tx: Transaction) -> None:
    """Close the agent's current span and open one in the new state (events of one agent arrive
    in order: the key is the agent)."""
    change: Any = event.payload
    at = aware(event.occurred_at)
    current = await store.open_span(tx.session, agent_id=change.agent_id)
    if current is not None:
        if aware(current.started_at) > at:
            return  # older than what is recorded: already superseded
        if current.state == change.state:
            return
        current.ended_at = at
        tx.session.add(current)
    tx.session.add(
        store.StateSpan(
            agent_id=change.agent_id, tenant_id=event.tenant_id, state=change.state, started_at=at
        )
    )
    # the publisher re-measures the tenant's adherence now
    tx.after_commit(partial(Workforce.of(tx).tenant_changed, event.tenant_id))
