"""Coaching follow-ups: a clock per coaching session with a follow-up date, as for a customer's
follow-up, but owed by the coach to the agent. Due and not done, it tells the tenant's team
leaders (`supervisor.alert`, kind `coaching_follow_up`); a new date replaces the clock, "done"
stops it."""

from __future__ import annotations

from datetime import datetime

from switchboard.common.envelope import Envelope
from switchboard.common.events.quality import CoachingPlanned
from switchboard.common.events.routing import SupervisorAlert
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.escalation import promises, store

KIND = "coaching_follow_up"
ACTION = "coach"


async def apply(tx: Transaction, event: Envelope[CoachingPlanned], at: datetime) -> None:
    coaching = event.payload
    for clock in await store.clocks_by_ref(tx.session, ref=coaching.coaching_id, kind=KIND):
        if clock.state == "running":
            clock.state, clock.stopped_at = "stopped", at
            tx.session.add(clock)
            await store.cancel_timers(tx.session, clock_id=clock.clock_id)
    if coaching.status == "done" or coaching.follow_up_at is None:
        return
    clock = store.Clock(
        clock_id=new_id(),
        contact_id=coaching.coaching_id,
        tenant_id=event.tenant_id,
        kind=KIND,
        ref=coaching.coaching_id,
        owner=coaching.agent_id,
        within="0m",
        measure="calendar",
        started_at=at,
        due_at=coaching.follow_up_at,
        channel=None,
    )
    tx.session.add(clock)
    promises.schedule(tx, clock, coaching.follow_up_at, ACTION)


async def fire(tx: Transaction, batch: store.Batch) -> None:
    """The batch's coaching timers (the rest are `promises.fire`'s: a coaching clock has no
    contact, so that passes it by)."""
    for timer in batch.timers:
        clock = batch.clocks.get(timer.clock_id)
        if timer.action == ACTION and clock is not None and clock.state == "running":
            await _alert(tx, clock)


async def _alert(tx: Transaction, clock: store.Clock) -> None:
    clock.state = "breached"
    tx.session.add(clock)
    alert = SupervisorAlert(
        kind=KIND,
        agent_id=clock.owner or "",
        message=f"Coaching follow-up with {clock.owner} was due {clock.due_at:%Y-%m-%d %H:%M} UTC "
        f"and is not marked done (session {clock.ref})",
    )
    await tx.emit(Envelope.first(alert, tenant_id=clock.tenant_id, aggregate_id=clock.tenant_id))
