"""A field job's life: created, despatched, confirmed or not in time, re-despatched, pre-empted by
an emergency, under way, finished. Every move goes through the status machine, is written to the
deployment log with its reason and becomes a `job.status` event in the same transaction. Who gets
a job is `despatch`; what it sends (job sheets, customer notices) is `notices`."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from opentelemetry import propagate

from switchboard.common.envelope import aware
from switchboard.common.events.desktop import JobDetails
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.origin import Origin
from switchboard.common.runtime import Transaction
from switchboard.dispatch import domain, store
from switchboard.dispatch.context import Dispatch

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
    for job in await store.active_jobs(tx.session, tenant_id=tenant.tenant_id):
        if job.technician_id:
            held[job.technician_id].append(job)
    zone = ZoneInfo(tenant.timezone)
    technicians = []
    for tech in await store.technicians(tx.session, tenant_id=tenant.tenant_id):
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


def origin_of(job: store.Job) -> Origin:
    """Where the job's chain stands: the contact's, for a job an agent requested; what it emits
    next follows its last event."""
    return Origin(
        job.tenant_id, job.contact_id, job.correlation_id, job.last_event_id, job.trace_parent
    )


def in_job_trace(
    tx: Transaction, job: store.Job, name: str
) -> contextlib.AbstractContextManager[None]:
    """Work on a job started by a timer, as a span of the trace the job was asked for in (the
    contact's, for a job an agent requested)."""
    return origin_of(job).span(Dispatch.of(tx).tracer, name, job_id=job.job_id)


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
    event = origin_of(job).event(payload, aggregate_id=job.job_id)
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
        await store.drop_deadlines(tx.session, kind="confirm", ref=job.job_id)
    await store.log(
        tx.session,
        job=job,
        action=action or to,
        actor=actor,
        reason=reason,
        technician_id=technician if to == "created" else job.technician_id,
    )
    await announce(tx, job, previous, reason=reason, **announced)  # type: ignore[arg-type]


async def flag(tx: Transaction, job: store.Job, *, now: datetime, reason: str) -> None:
    """No technician could be chosen: a dispatcher must despatch it."""
    job.needs_dispatcher, job.updated_at = True, now
    await store.log(tx.session, job=job, action="flagged", actor="automatic", reason=reason)
    await announce(tx, job, job.status, reason=f"needs manual despatch: {reason}")
