"""Workforce's subscribers: the history per interval (offered, answered, abandoned, handle time)
from the contacts' events, and each agent's presence as spans of time. A contact is answered
once: by an agent's acceptance (`contact.assigned`) or at the PBX (`call.answered`), whichever
comes first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch, topics
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
    prefetch=_tracks,
    emits=(
        topics.WORKFORCE_SCHEDULE,
        topics.WORKFORCE_ADHERENCE,
        topics.WORKFORCE_INTRADAY,
        topics.SUPERVISOR_ALERT,
    ),
)


async def _stat(tx: Transaction, track: store.ContactTrack) -> store.IntervalStat:
    return await store.stat(
        tx.session,
        tenant_id=track.tenant_id,
        queue_id=track.queue_id,
        channel=track.channel,
        slot=track.slot,
    )


@subscriptions.on(topics.CONTACT_QUEUED)
async def on_contact_queued(event: Envelope[ContactQueued], tx: Transaction) -> None:
    """A contact's first queueing counts as offered to that queue in that interval; a re-queue
    (transfer, escalation) does not count again."""
    contact_id = event.about_contact_id
    if await prefetch.find(tx.session, store.ContactTrack, contact_id) is not None:
        return
    cal = await planning.calendar(tx.session, event.tenant_id)
    if cal is None:
        return
    at = aware(event.occurred_at)
    track = store.ContactTrack(
        contact_id=contact_id,
        tenant_id=event.tenant_id,
        queue_id=event.payload.queue_id,
        channel=event.payload.channel or "email",
        queued_at=at,
        slot=cal.utc(domain.local_slot(at, cal.zone, cal.config.interval_minutes)),
    )
    tx.session.add(track)
    stat = await _stat(tx, track)
    stat.offered += 1


@subscriptions.on(topics.CONTACT_ASSIGNED)
async def on_contact_assigned(event: Envelope[ContactAssigned], tx: Transaction) -> None:
    await _answered(tx, event.aggregate_id, aware(event.occurred_at), event.payload.waited_seconds)


@subscriptions.on(topics.CALL_ANSWERED)
async def on_call_answered(event: Envelope[CallAnswered], tx: Transaction) -> None:
    """A call answered at the PBX while it waited in line counts as answered there and then."""
    track = await prefetch.find(tx.session, store.ContactTrack, event.about_contact_id)
    if track is not None:
        at = aware(event.payload.at)
        await _answered(tx, track.contact_id, at, (at - aware(track.queued_at)).total_seconds())


async def _answered(tx: Transaction, contact_id: str, at: datetime, waited: float) -> None:
    """The contact's first answer (an agent's acceptance or the PBX's), once."""
    track = await prefetch.find(tx.session, store.ContactTrack, contact_id)
    if track is None or track.assigned_at is not None or track.closed:
        return
    track.assigned_at = at
    tx.session.add(track)
    stat = await _stat(tx, track)
    stat.handled += 1
    stat.wait_seconds += max(0.0, waited)
    queue = await tx.session.get(store.WorkforceQueue, (track.tenant_id, track.queue_id))
    if queue is not None and waited <= queue.service_level_seconds:
        stat.answered_in_target += 1


@subscriptions.on(topics.CALL_ABANDONED)
async def on_call_abandoned(event: Envelope[CallAbandoned], tx: Transaction) -> None:
    track = await prefetch.find(tx.session, store.ContactTrack, event.about_contact_id)
    if track is None or track.assigned_at is not None or track.closed:
        return
    track.closed = True
    tx.session.add(track)
    stat = await _stat(tx, track)
    stat.abandoned += 1
    stat.wait_seconds += max(
        0.0, (aware(event.payload.at) - aware(track.queued_at)).total_seconds()
    )


@subscriptions.on(topics.CONTACT_WRAPPED)
async def on_contact_wrapped(event: Envelope[ContactWrapped], tx: Transaction) -> None:
    """Handle time: from the agent's acceptance to the end of the after-contact work."""
    track = await prefetch.find(tx.session, store.ContactTrack, event.aggregate_id)
    if track is None or track.assigned_at is None or track.closed:
        return
    track.closed = True
    tx.session.add(track)
    stat = await _stat(tx, track)
    stat.wrapped += 1
    stat.handle_seconds += max(
        0.0, (aware(event.occurred_at) - aware(track.assigned_at)).total_seconds()
    )


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
    tx.after_commit(Workforce.of(tx).changed.set)  # the publisher re-measures adherence now
