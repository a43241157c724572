"""A field job's life: created, despatched (automatically to the best technician, by a dispatcher,
or after asking several for their ETA), confirmed or not in time, re-despatched, pre-empted by an
emergency, under way, finished. Every move goes through the status machine, is written to the
deployment log with its reason and becomes a `job.status` event in the same transaction."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from opentelemetry import propagate

from switchboard.common.envelope import Envelope, aware
from switchboard.common.events.desktop import JobDetails
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.outbound import OutboundRequested
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.common.telemetry import continued_span
from switchboard.dispatch import domain, store

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def shift_of(config: dict[str, Any]) -> domain.Shift:
    days = frozenset(WEEKDAYS.index(d) for d in config["days"])
    return domain.Shift(days, _clock(config["open"]), _clock(config["close"]))


async def team(
    tx: Transaction, tenant: store.DispatchTenant, now: datetime
) -> list[domain.Technician]:
    """The tenant's technicians as the choice sees them: where they are, and where and when they
    will be free of the jobs they hold (those jobs in their planned order)."""
    held: dict[str, list[store.Job]] = defaultdict(list)
    for job in await store.active_jobs(tx.session, tenant.tenant_id):
        if job.technician_id:
            held[job.technician_id].append(job)
    zone = ZoneInfo(tenant.timezone)
    technicians = []
    for tech in await store.technicians(tx.session, tenant.tenant_id):
        here = domain.Point(tech.lat, tech.lon)
        free_at, free_from = here, now
        for job in held[tech.technician_id]:
            start = max(free_from, aware(job.planned_start or now))
            free_from = start + timedelta(minutes=job.estimated_minutes)
            free_at = domain.Point(job.lat, job.lon)
        technicians.append(
            domain.Technician(
                technician_id=tech.technician_id,
                skills=frozenset(tech.skills),
                shifts=tuple(shift_of(s) for s in tech.shifts),
                timezone=zone,
                location=here,
                free_at=free_at,
                free_from=free_from,
                jobs=tuple(
                    domain.CurrentJob(j.job_id, j.priority, j.status)
                    for j in held[tech.technician_id]
                ),
            )
        )
    return technicians


def new_job(
    body: JobDetails,
    *,
    job_id: str,
    tenant_id: str,
    now: datetime,
    correlation_id: str,
    last_event_id: str,
    contact_id: str | None = None,
    requested_by: str | None = None,
) -> store.Job:
    """A job as asked for (by an agent's `job.requested` or a dispatcher's `POST /v1/jobs`), in the
    trace it was asked in."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    customer, payment = body.customer, body.payment
    return store.Job(
        job_id=job_id,
        tenant_id=tenant_id,
        contact_id=contact_id,
        requested_by=requested_by,
        site_name=body.site.name,
        address=body.site.address,
        lat=body.site.lat,
        lon=body.site.lon,
        work_type=body.work_type,
        skills=sorted(body.skills),
        estimated_minutes=body.estimated_minutes,
        window_start=body.window.start,
        window_end=body.window.end,
        priority=body.priority,
        special_instructions=body.special_instructions,
        customer_name=customer.name if customer else None,
        customer_phone=customer.phone if customer else None,
        payment_method=payment.method if payment else None,
        payment_token=payment.token if payment else None,
        correlation_id=correlation_id,
        last_event_id=last_event_id,
        trace_parent=headers.get("traceparent"),
        created_at=now,
        updated_at=now,
    )


def need(job: store.Job) -> domain.JobNeed:
    return domain.JobNeed(
        job_id=job.job_id,
        site=domain.Point(job.lat, job.lon),
        skills=frozenset(job.skills),
        estimated_minutes=job.estimated_minutes,
        window_start=aware(job.window_start),
        window_end=aware(job.window_end),
        priority=job.priority,
    )


def travel_model(tenant: store.DispatchTenant) -> domain.TravelModel:
    config = tenant.config
    return domain.TravelModel(road_factor=config.road_factor, speed_kmh=config.speed_kmh)


def in_job_trace(
    tx: Transaction, job: store.Job, name: str
) -> contextlib.AbstractContextManager[None]:
    """Work on a job started by a timer, as a span of the trace the job was asked for in (the
    contact's, for a job an agent requested)."""
    return continued_span(
        tx.state["tracer"],
        job.trace_parent,
        name,
        tenant_id=job.tenant_id,
        contact_id=job.contact_id,
        job_id=job.job_id,
    )


async def announce(
    tx: Transaction,
    job: store.Job,
    previous: str | None,
    *,
    reason: str,
    automatic: bool = False,
    medium: str | None = None,
    displaced_by: str | None = None,
) -> None:
    payload = JobStatusChanged(
        job_id=job.job_id,
        status=job.status,
        previous=previous,
        work_type=job.work_type,
        priority=job.priority,
        technician_id=job.technician_id,
        reason=reason[:500],
        automatic=automatic,
        medium=medium,
        travel_minutes=job.travel_minutes,
        eta=job.planned_start,
        requested_by=job.requested_by,
        needs_dispatcher=job.needs_dispatcher,
        displaced_by=displaced_by,
    )
    event = Envelope.resume(
        payload,
        tenant_id=job.tenant_id,
        aggregate_id=job.job_id,
        contact_id=job.contact_id,
        correlation_id=job.correlation_id,
        causation_id=job.last_event_id,
    )
    job.last_event_id = event.event_id
    tx.session.add(job)
    await tx.emit(event)


async def move(
    tx: Transaction,
    job: store.Job,
    to: str,
    *,
    now: datetime,
    actor: str,
    reason: str,
    action: str | None = None,
    **announced: object,
) -> None:
    """Change the job's status (IllegalTransition if the machine does not allow it), log and
    announce it."""
    domain.check_transition(job.status, to)
    previous, technician = job.status, job.technician_id
    job.status, job.updated_at = to, now
    if to == "created":
        job.technician_id, job.planned_start, job.travel_minutes = None, None, None
    if previous == "despatched":
        await store.drop_deadlines(tx.session, "confirm", job.job_id)
    await store.log(
        tx.session,
        job,
        action or to,
        actor=actor,
        reason=reason,
        technician_id=technician if to == "created" else job.technician_id,
    )
    await announce(tx, job, previous, reason=reason, **announced)  # type: ignore[arg-type]


def job_sheet(job: store.Job, note: str | None = None) -> tuple[str, str]:
    """The subject and text a technician is sent: everything they need on site, nothing more (the
    payment is a token and its method, never a card number)."""
    subject = f"{job.priority.upper()} job {job.job_id[:8]}: {job.work_type} at {job.address}"
    lines = [
        f"Job: {job.job_id}",
        f"Priority: {job.priority}",
        f"Work: {job.work_type} (about {job.estimated_minutes} min)",
        f"Skills: {', '.join(job.skills) or '-'}",
        f"Site: {job.site_name + ', ' if job.site_name else ''}{job.address}",
        f"Location: {job.lat:.5f},{job.lon:.5f}",
        f"Window: {aware(job.window_start).isoformat()} to {aware(job.window_end).isoformat()}",
        *([f"Planned start: {aware(job.planned_start).isoformat()}"] if job.planned_start else []),
        f"Customer: {job.customer_name or '-'} {job.customer_phone or ''}".rstrip(),
    ]
    if job.payment_method:
        lines.append(f"Payment: {job.payment_method} (token {job.payment_token})")
    if job.special_instructions:
        lines.append(f"Instructions: {job.special_instructions}")
    if note:
        lines.append(f"Note from dispatch: {note}")
    lines.append("Reply CONFIRM to accept, or DECLINE with a reason.")
    return subject, "\n".join(lines)


def send(
    tx: Transaction,
    tech: store.Technician,
    subject: str,
    text: str,
    *,
    medium: str | None = None,
    job_id: str | None = None,
    message_id: str | None = None,
    now: datetime,
) -> store.Sent:
    """Record a message to a technician exactly as it goes out; the loop delivers it once the
    transaction has committed."""
    sent = store.Sent(
        sent_id=new_id(),
        tenant_id=tech.tenant_id,
        job_id=job_id,
        message_id=message_id,
        to=tech.technician_id,
        medium=medium or tech.medium,
        address=tech.address,
        subject=subject[:300],
        text=text,
        created_at=now,
        delivered_at=now if (medium or tech.medium) == "phone" else None,
    )
    tx.session.add(sent)
    tx.after_commit(tx.state["wake"])  # once the row is there for the loop to see
    return sent


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
    tenant = await store.tenant(tx.session, job.tenant_id)
    if travel_minutes is None:
        travel_minutes = travel_model(tenant).minutes(
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
    await move(
        tx,
        job,
        "despatched",
        now=now,
        actor=actor,
        reason=reason,
        automatic=automatic,
        medium=medium,
    )
    subject, text = job_sheet(job, note)
    send(tx, tech, subject, text, medium=medium, job_id=job.job_id, now=now)
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


async def flag(tx: Transaction, job: store.Job, *, now: datetime, reason: str) -> None:
    """No technician could be chosen: a dispatcher must despatch it."""
    job.needs_dispatcher, job.updated_at = True, now
    await store.log(tx.session, job, "flagged", actor="automatic", reason=reason)
    await announce(tx, job, job.status, reason=f"needs manual despatch: {reason}")


async def auto_despatch(
    tx: Transaction, job: store.Job, *, now: datetime, avoid: Sequence[str] = ()
) -> None:
    """Despatch to the best technician (not one in `avoid`); an emergency nobody free can reach in
    time pre-empts the nearest lower-priority job; otherwise the job is flagged for a dispatcher."""
    tenant = await store.tenant(tx.session, job.tenant_id)
    config, travel = tenant.config, travel_model(tenant)
    if len(job.tried) >= config.max_despatch_attempts:
        await flag(tx, job, now=now, reason=f"{len(job.tried)} technicians did not take it")
        return
    technicians = await team(tx, tenant, now)
    choice = domain.choose(
        need(job), technicians, now=now, travel=travel, exclude=[*job.tried, *avoid]
    )
    chosen = choice.chosen
    if chosen is None:
        untried = [t for t in technicians if t.technician_id not in [*job.tried, *avoid]]
        chosen = domain.preemption(
            need(job), untried, now=now, travel=travel, within_km=config.preempt_within_km
        )
    if chosen is None:
        await flag(tx, job, now=now, reason=choice.reason)
        return
    tech = await tx.session.get(store.Technician, chosen.technician_id)
    assert tech is not None
    displaced = [await store.job_for_update(tx.session, job_id) for job_id in chosen.displaces]
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
        await tell_customer(
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
    await move(
        tx,
        job,
        "created",
        now=now,
        actor="automatic",
        reason=reason,
        action="pre-empted",
        displaced_by=by.job_id,
    )
    send(
        tx,
        tech,
        f"Job {job.job_id[:8]} withdrawn",
        f"Job {job.job_id} ({job.work_type} at {job.address}) is withdrawn: you are needed at an "
        f"emergency. It will be given to someone else.",
        job_id=job.job_id,
        now=now,
    )
    await tell_customer(
        tx,
        job,
        now=now,
        text=f"Your {job.work_type} visit at {job.address} has been rescheduled because of an "
        f"emergency nearby. We will confirm the new time shortly.",
    )


async def tell_customer(tx: Transaction, job: store.Job, *, now: datetime, text: str) -> None:
    """An outbound message to the job's customer: it waits for the DNC gate's answer."""
    if not job.customer_phone:
        await store.log(
            tx.session,
            job,
            "customer_not_told",
            actor="automatic",
            reason="no phone number for the customer",
        )
        return
    notice = store.CustomerNotice(
        request_id=new_id(),
        tenant_id=job.tenant_id,
        job_id=job.job_id,
        number=job.customer_phone,
        text=text,
    )
    tx.session.add(notice)
    request = OutboundRequested(
        request_id=notice.request_id,
        channel="sms",
        number=job.customer_phone,
        purpose="appointment",
        requested_by="dispatch",
        not_before=now,
    )
    await tx.emit(
        Envelope.resume(
            request,
            tenant_id=job.tenant_id,
            aggregate_id=notice.request_id,
            contact_id=job.contact_id,
            correlation_id=job.correlation_id,
            causation_id=job.last_event_id,
        )
    )


async def not_taken(
    tx: Transaction, job: store.Job, *, now: datetime, actor: str, action: str, reason: str
) -> None:
    """The technician declined or did not confirm in time: re-despatch to someone else, or, where
    the tenant's policy says so, leave it to a dispatcher."""
    assert job.technician_id is not None
    job.tried = [*job.tried, job.technician_id]
    await move(tx, job, "created", now=now, actor=actor, reason=reason, action=action)
    tenant = await store.tenant(tx.session, job.tenant_id)
    if tenant.config.on_confirm_timeout == "manual" and action == "timed_out":
        await flag(tx, job, now=now, reason=reason)
    else:
        await auto_despatch(tx, job, now=now)
