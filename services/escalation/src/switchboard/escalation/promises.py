"""The promises themselves: which policy a contact falls under, its clocks and their timers, what
stops a clock, and what firing a timer does (a warning, a breach that climbs the escalation path,
a follow-up falling due)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from switchboard.common.events.escalation import ContactEscalated, FollowUpDue, SlaAlert
from switchboard.common.ids import new_id
from switchboard.common.origin import Origin
from switchboard.common.promises_config import ClockConfig
from switchboard.common.runtime import Transaction
from switchboard.escalation import calendar, domain, store
from switchboard.escalation.context import Escalation


def calendar_of(tenant: store.EscalationTenant) -> calendar.BusinessCalendar:
    hours = [(h["days"], h["open"], h["close"]) for h in tenant.config["hours"]]
    holidays = [datetime.fromisoformat(d).date() for d in tenant.config["holidays"]]
    return calendar.calendar_of(tenant.timezone, hours, holidays)


def start(
    tx: Transaction,
    tenant: store.EscalationTenant,
    contact: store.WatchedContact,
    kind: str,
    config: ClockConfig,
    started_at: datetime,
    *,
    warn_share: float | None,
    policy: store.SlaPolicy | None = None,
    ref: str | None = None,
) -> store.Clock:
    cal = calendar_of(tenant)
    due_at = calendar.due(started_at, config.within, config.measure, cal)
    warn_at = (
        calendar.warning_at(started_at, due_at, warn_share, config.measure, cal)
        if warn_share
        else None
    )
    clock = store.Clock(
        clock_id=new_id(),
        contact_id=contact.contact_id,
        tenant_id=contact.tenant_id,
        kind=kind,
        ref=ref,
        policy_id=policy.policy_id if policy else None,
        policy_version=policy.version if policy else None,
        within=config.within,
        measure=config.measure,
        stops_on=list(config.stops_on),
        started_at=started_at,
        warn_at=warn_at,
        due_at=due_at,
    )
    tx.session.add(clock)
    if warn_at is not None:
        schedule(tx, clock, warn_at, "warn")
    schedule(tx, clock, due_at, "breach")
    return clock


def schedule(tx: Transaction, clock: store.Clock, at: datetime, action: str) -> None:
    tx.session.add(
        store.Timer(timer_id=new_id(), clock_id=clock.clock_id, fire_at=at, action=action)
    )
    tx.after_commit(partial(Escalation.of(tx).wake, at))  # once the row is there to see


async def stop(tx: Transaction, contact_id: str, reason: str, at: datetime) -> None:
    """Every running clock of the contact that `reason` stops is met (late, if it had breached)."""
    for clock in await store.running_clocks(tx.session, contact_id=contact_id):
        if reason in clock.stops_on:
            await _finish(tx, clock, at)


async def stop_ref(tx: Transaction, ref: str, at: datetime) -> None:
    """The clocks of one complaint or follow-up."""
    for clock in await store.clocks_by_ref(tx.session, ref=ref):
        if clock.state in ("running", "breached"):
            await _finish(tx, clock, at)


async def _finish(tx: Transaction, clock: store.Clock, at: datetime) -> None:
    clock.state = domain.finished(clock.state)
    clock.stopped_at = at
    tx.session.add(clock)
    await store.cancel_timers(tx.session, clock_id=clock.clock_id)


async def fire(tx: Transaction, batch: store.Batch, now: datetime) -> None:
    """Do what each timer of the batch is for (the caller deletes the timers in the same
    transaction). A timer whose clock has stopped meanwhile does nothing: its reason has gone."""
    for timer in batch.timers:
        clock = batch.clocks.get(timer.clock_id)
        if clock is None or clock.state not in ("running", "breached"):
            continue
        contact = batch.contacts.get(clock.contact_id)
        tenant = batch.tenants.get(clock.tenant_id)
        if contact is not None and tenant is not None:
            await _fire_one(tx, timer, clock, contact, tenant, now)


async def _fire_one(
    tx: Transaction,
    timer: store.Timer,
    clock: store.Clock,
    contact: store.WatchedContact,
    tenant: store.EscalationTenant,
    now: datetime,
) -> None:
    with _origin(contact).span(Escalation.of(tx).tracer, f"escalation {timer.action} {clock.kind}"):
        if timer.action == "warn":
            alert = SlaAlert(
                clock_id=clock.clock_id, clock=clock.kind, stage="warning", due_at=clock.due_at
            )
            await tx.emit(_origin(contact).event(alert))
        elif timer.action == "due":
            await _follow_up_due(tx, contact, clock, tenant)
        else:
            await _breach(tx, contact, clock, tenant, now)


async def _follow_up_due(
    tx: Transaction,
    contact: store.WatchedContact,
    clock: store.Clock,
    tenant: store.EscalationTenant,
) -> None:
    due = FollowUpDue(
        follow_up_id=clock.ref or clock.clock_id,
        agent_id=clock.owner or "",
        due_at=clock.due_at,
        channel=clock.channel or contact.channel or "phone",
        grace_until=domain.grace_after(clock.due_at, tenant.config["follow_up_grace"]),
    )
    await tx.emit(_origin(contact).event(due))


async def _breach(
    tx: Transaction,
    contact: store.WatchedContact,
    clock: store.Clock,
    tenant: store.EscalationTenant,
    now: datetime,
) -> None:
    """Up one level of the path (or to the complaint level), re-queued there, its people told;
    the clock runs on at the new level until the last."""
    levels: list[dict[str, Any]] = tenant.config["levels"]
    clock.state, clock.breaches = "breached", clock.breaches + 1
    tx.session.add(clock)
    decided = domain.breach(
        levels,
        contact_level=contact.level,
        kind=clock.kind,
        complaint_level=tenant.config["complaints"]["level"],
    )
    level = levels[decided.level] if decided.level is not None else None
    if decided.level is not None and level is not None:
        contact.level = decided.level + 1
        tx.session.add(contact)
        escalated = ContactEscalated(
            reason=domain.missed(clock.kind, clock.due_at),
            priority=level["priority"],
            queue_id=level["queue"],
            category="sla_breach",
            level=level["name"],
            reopen=clock.kind == "follow_up",
        )
        await tx.emit(_origin(contact).event(escalated))
    alert = SlaAlert(
        clock_id=clock.clock_id,
        clock=clock.kind,
        stage="breach",
        due_at=clock.due_at,
        level=level["name"] if level else None,
        notify=level["notify"] if level else [],
    )
    await tx.emit(_origin(contact).event(alert))
    if decided.rearm:
        clock.due_at = calendar.due(now, clock.within, clock.measure, calendar_of(tenant))  # type: ignore[arg-type]
        schedule(tx, clock, clock.due_at, "breach")


def _origin(contact: store.WatchedContact) -> Origin:
    return Origin(
        contact.tenant_id,
        contact.contact_id,
        contact.correlation_id,
        contact.causation_id,
        contact.trace_parent,
    )
