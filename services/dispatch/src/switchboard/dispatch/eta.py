"""Request for ETA: instead of assigning outright, offer the job to several technicians, collect
their replies with ETAs, and pick one (a dispatcher does, or the rule picks the earliest once all
have replied or the time for replies is up); the others are told."""

from __future__ import annotations

from datetime import datetime, timedelta

from switchboard.common.errors import Refused
from switchboard.common.runtime import Transaction
from switchboard.dispatch import despatch, domain, jobs, messages_store, notices, store

DEFAULT_CANDIDATES = 3


class EtaError(Refused):
    """A request or reply the job's state does not allow."""


async def candidates(
    tx: Transaction, job: store.Job, now: datetime, count: int = DEFAULT_CANDIDATES
) -> list[str]:
    """The `count` technicians the automatic rule would consider first (skills, shift, window),
    nearest first."""
    tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
    technicians = await jobs.team(tx, tenant, now)
    travel, found = jobs.travel_model(tenant), list[str]()
    for _ in range(count):
        choice = domain.choose(
            jobs.need(job), technicians, now=now, travel=travel, exclude=[*job.tried, *found]
        )
        if choice.chosen is None:
            break
        found.append(choice.chosen.technician_id)
    return found


async def request(
    tx: Transaction,
    job: store.Job,
    technician_ids: list[str],
    *,
    rule: str,
    reply_within_minutes: int,
    now: datetime,
    actor: str,
) -> None:
    if job.status != "created":
        raise EtaError(
            f"the job is {job.status}; only a job not yet despatched is offered for ETAs"
        )
    if await messages_store.eta_requests(tx.session, job_id=job.job_id):
        raise EtaError("ETAs have already been asked for this job")
    if not technician_ids:
        raise EtaError("no technician to ask")
    for technician_id in technician_ids:
        tech = await tx.session.get(store.Technician, technician_id)
        if tech is None or tech.tenant_id != job.tenant_id:
            raise EtaError(f"no technician {technician_id!r}")
        tx.session.add(
            messages_store.EtaRequest(
                job_id=job.job_id, technician_id=technician_id, asked_at=now, rule=rule
            )
        )
        subject, sheet = notices.job_sheet(job)
        notices.send(
            tx,
            tech,
            f"ETA please: {subject}",
            sheet.replace(
                "Reply CONFIRM to accept, or DECLINE with a reason.",
                f"Reply with your ETA in minutes within {reply_within_minutes} "
                "minutes, or DECLINE.",
            ),
            job_id=job.job_id,
            now=now,
        )
    job.eta_rule = True
    await store.log(
        tx.session,
        job=job,
        action="eta_requested",
        actor=actor,
        reason=f"asked {', '.join(technician_ids)}; {rule} picks",
    )
    tx.session.add(
        store.Deadline(
            tenant_id=job.tenant_id,
            kind="eta",
            ref=job.job_id,
            due_at=now + timedelta(minutes=reply_within_minutes),
        )
    )


async def reply(
    tx: Transaction, job: store.Job, technician_id: str, eta_minutes: int | None, *, now: datetime
) -> None:
    asked = await tx.session.get(messages_store.EtaRequest, (job.job_id, technician_id))
    if asked is None:
        raise EtaError(f"{technician_id} was not asked for an ETA for this job")
    if asked.replied_at is not None:
        return  # the same reply again
    asked.replied_at, asked.eta_minutes = now, eta_minutes
    asked.declined = eta_minutes is None
    tx.session.add(asked)
    answer = "declines" if eta_minutes is None else f"can be there in {eta_minutes} min"
    await store.log(
        tx.session,
        job=job,
        action="eta_reply",
        actor=f"technician {technician_id}",
        reason=answer,
        technician_id=technician_id,
    )
    requests = await messages_store.eta_requests(tx.session, job_id=job.job_id)
    if job.status == "created" and asked.rule == "earliest" and all(r.replied_at for r in requests):
        await pick_earliest(tx, job, now=now, why="all replied")


async def pick_earliest(tx: Transaction, job: store.Job, *, now: datetime, why: str) -> None:
    offers = [
        r
        for r in await messages_store.eta_requests(tx.session, job_id=job.job_id)
        if r.eta_minutes is not None
    ]
    await store.drop_deadlines(tx.session, kind="eta", ref=job.job_id)
    if not offers:
        await jobs.flag(tx, job, now=now, reason=f"no technician offered an ETA ({why})")
        return
    earliest = min(offers, key=lambda r: (r.eta_minutes, r.technician_id))
    await pick(
        tx,
        job,
        earliest.technician_id,
        now=now,
        actor="automatic",
        reason=f"earliest ETA, {earliest.eta_minutes} min ({why})",
    )


async def pick(
    tx: Transaction, job: store.Job, technician_id: str, *, now: datetime, actor: str, reason: str
) -> None:
    """Despatch to the chosen technician; tell the others they are not needed."""
    requests = await messages_store.eta_requests(tx.session, job_id=job.job_id)
    chosen = next((r for r in requests if r.technician_id == technician_id), None)
    if chosen is None:
        raise EtaError(f"{technician_id} was not asked for an ETA for this job")
    tech = await tx.session.get(store.Technician, technician_id)
    assert tech is not None
    await store.drop_deadlines(tx.session, kind="eta", ref=job.job_id)
    start = now + timedelta(minutes=chosen.eta_minutes) if chosen.eta_minutes is not None else None
    await despatch.despatch(
        tx,
        job,
        tech,
        now=now,
        actor=actor,
        reason=reason,
        automatic=actor == "automatic",
        start=start,
    )
    for other in requests:
        if other.technician_id == technician_id or other.declined:
            continue
        other_tech = await tx.session.get(store.Technician, other.technician_id)
        assert other_tech is not None
        notices.send(
            tx,
            other_tech,
            f"Job {job.job_id[:8]} taken",
            f"Thank you: job {job.job_id} ({job.work_type} at {job.address}) has gone to "
            "another technician.",
            job_id=job.job_id,
            now=now,
        )
