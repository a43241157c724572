"""Despatching a job: to the best technician automatically (pre-empting a lesser job for an
emergency where the policy allows), to one a dispatcher names, or back to the queue when a
technician does not take it in time; whoever loses a job is told, and so is the customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from switchboard.common.envelope import aware
from switchboard.common.runtime import Transaction
from switchboard.dispatch import domain, jobs, notices, store


async def despatch(
    tx: Transaction,
    job: store.Job,
    tech: store.Technician,
    *,
    now: datetime,
    actor: str,
    reason: str,
    automatic: bool,
    medium: str | None = None,
    travel_minutes: float | None = None,
    start: datetime | None = None,
    note: str | None = None,
) -> None:
    """Give the job to `tech`, send them the job sheet, and start the wait for their confirmation."""
    tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
    if travel_minutes is None:
        travel_minutes = jobs.travel_model(tenant).minutes(
            domain.Point(tech.lat, tech.lon), domain.Point(job.lat, job.lon)
        )
    job.technician_id, job.travel_minutes, job.needs_dispatcher = (
        tech.technician_id,
        travel_minutes,
        False,
    )
    job.planned_start = start or max(
        aware(job.window_start), now + timedelta(minutes=travel_minutes)
    )
    medium = medium or tech.medium
    await jobs.move(
        tx,
        job,
        "despatched",
        now=now,
        actor=actor,
        reason=reason,
        automatic=automatic,
        medium=medium,
    )
    subject, text = notices.job_sheet(job, note)
    notices.send(tx, tech, subject, text, medium=medium, job_id=job.job_id, now=now)
    due = now + timedelta(minutes=tenant.config.confirm_within_minutes)
    tx.session.add(
        store.Deadline(
            tenant_id=job.tenant_id,
            kind="confirm",
            ref=job.job_id,
            technician_id=tech.technician_id,
            due_at=due,
        )
    )


async def auto_despatch(
    tx: Transaction, job: store.Job, *, now: datetime, avoid: Sequence[str] = ()
) -> None:
    """Despatch to the best technician (not one in `avoid`); an emergency nobody free can reach in
    time pre-empts the nearest lower-priority job; otherwise the job is flagged for a dispatcher."""
    tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
    config, travel = tenant.config, jobs.travel_model(tenant)
    if len(job.tried) >= config.max_despatch_attempts:
        await jobs.flag(tx, job, now=now, reason=f"{len(job.tried)} technicians did not take it")
        return
    technicians = await jobs.team(tx, tenant, now)
    choice = domain.choose(
        jobs.need(job), technicians, now=now, travel=travel, exclude=[*job.tried, *avoid]
    )
    chosen = choice.chosen
    if chosen is None:
        untried = [t for t in technicians if t.technician_id not in [*job.tried, *avoid]]
        chosen = domain.preemption(
            jobs.need(job), untried, now=now, travel=travel, within_km=config.preempt_within_km
        )
    if chosen is None:
        await jobs.flag(tx, job, now=now, reason=choice.reason)
        return
    tech = await tx.session.get(store.Technician, chosen.technician_id)
    assert tech is not None
    displaced = [
        await store.job_for_update(tx.session, job_id=job_id) for job_id in chosen.displaces
    ]
    for other in displaced:
        assert other is not None
        await _withdraw(tx, other, tech, by=job, now=now)
    await despatch(
        tx,
        job,
        tech,
        now=now,
        actor="automatic",
        reason=chosen.reason,
        automatic=True,
        travel_minutes=chosen.travel_minutes,
        start=chosen.arrival,
        note="booked for the start of your next shift" if chosen.booked_ahead else None,
    )
    if chosen.booked_ahead:
        local = chosen.arrival.astimezone(ZoneInfo(tenant.timezone))
        await notices.tell_customer(
            tx,
            job,
            now=now,
            text=f"Your {job.work_type} visit at {job.address} is booked: a technician will "
            f"start at {local:%H:%M} on {local:%a %d %b}.",
        )
    for other in displaced:  # to someone else: the emergency's length is anyone's guess
        assert other is not None
        await auto_despatch(tx, other, now=now, avoid=[tech.technician_id])


async def _withdraw(
    tx: Transaction, job: store.Job, tech: store.Technician, *, by: store.Job, now: datetime
) -> None:
    """Take a job off its technician for an emergency: tell the technician, tell the customer
    (through the DNC gate), and leave it to be re-despatched."""
    reason = f"pre-empted by emergency job {by.job_id} ({by.work_type} at {by.address})"
    await jobs.move(
        tx,
        job,
        "created",
        now=now,
        actor="automatic",
        reason=reason,
        action="pre-empted",
        displaced_by=by.job_id,
    )
    notices.send(
        tx,
        tech,
        f"Job {job.job_id[:8]} withdrawn",
        f"Job {job.job_id} ({job.work_type} at {job.address}) is withdrawn: you are needed at an "
        f"emergency. It will be given to someone else.",
        job_id=job.job_id,
        now=now,
    )
    await notices.tell_customer(
        tx,
        job,
        now=now,
        text=f"Your {job.work_type} visit at {job.address} has been rescheduled because of an "
        f"emergency nearby. We will confirm the new time shortly.",
    )


async def not_taken(
    tx: Transaction, job: store.Job, *, now: datetime, actor: str, action: str, reason: str
) -> None:
    """The technician declined or did not confirm in time: re-despatch to someone else, or, where
    the tenant's policy says so, leave it to a dispatcher."""
    assert job.technician_id is not None
    job.tried = [*job.tried, job.technician_id]
    await jobs.move(tx, job, "created", now=now, actor=actor, reason=reason, action=action)
    tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
    if tenant.config.on_confirm_timeout == "manual" and action == "timed_out":
        await jobs.flag(tx, job, now=now, reason=reason)
    else:
        await auto_despatch(tx, job, now=now)
