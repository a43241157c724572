"""Dispatch's API for dispatchers and for the gateways of the media technicians answer through
(operator token, tenant-scoped): jobs and their moves, technicians, communications to field staff,
requests for ETA, and the day's plan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlmodel import col, select

from switchboard.common.auth import Operator, operator, policy
from switchboard.common.clock import Clock
from switchboard.common.errors import Refused
from switchboard.common.events.desktop import JobDetails
from switchboard.common.events.dispatch import Medium
from switchboard.common.ids import new_id
from switchboard.common.runtime import Runtime, Transaction
from switchboard.dispatch import eta, fieldcomm, jobs, planning, replan, store

router = APIRouter(
    prefix="/v1",
    tags=["dispatch"],
    dependencies=[policy(read=("dispatcher", "team_leader"), write=("dispatcher",))],
)
Who = Annotated[Operator, Depends(operator)]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _now(request: Request) -> datetime:
    clock: Clock = _runtime(request).state["clock"]
    return clock.now()


@asynccontextmanager
async def _refusals() -> AsyncIterator[None]:
    """What the status machine, a request for ETA or a message's state refuses is a 409 with the
    reason, and nothing of the request is kept."""
    try:
        yield
    except Refused as refused:
        raise HTTPException(409, refused.reason) from None


async def _job(tx: Transaction, job_id: str, tenant_id: str) -> store.Job:
    """The tenant's job, locked for a change (after the tenant's despatch lock)."""
    await store.lock_tenant(tx.session, tenant_id)
    job = await store.job_for_update(tx.session, job_id)
    if job is None or job.tenant_id != tenant_id:
        raise HTTPException(404, "no such job")
    return job


async def _technician(tx: Transaction, technician_id: str, tenant_id: str) -> store.Technician:
    tech = await tx.session.get(store.Technician, technician_id)
    if tech is None or tech.tenant_id != tenant_id:
        raise HTTPException(422, f"no technician {technician_id!r}")
    return tech


def _held_by(job: store.Job, technician_id: str) -> None:
    if job.technician_id != technician_id:
        raise HTTPException(409, f"the job is not despatched to {technician_id}")


class JobCreate(JobDetails):
    request_eta: bool = False
    """Offer it to the nearest technicians for their ETAs instead of assigning outright; the
    earliest ETA wins."""


async def open_job(
    tx: Transaction, job: store.Job, *, now: datetime, actor: str, request_eta: bool
) -> None:
    """A new job: announced as created, then despatched automatically (or offered for ETAs)."""
    await store.lock_tenant(tx.session, job.tenant_id)
    tx.session.add(job)
    await store.log(tx.session, job, "created", actor=actor)
    await jobs.announce(tx, job, None, reason=f"created by {actor}")
    if request_eta:
        asked = await eta.candidates(tx, job, now)
        if asked:
            tenant = await store.tenant(tx.session, job.tenant_id)
            await eta.request(
                tx,
                job,
                asked,
                rule="earliest",
                now=now,
                actor=actor,
                reply_within_minutes=tenant.config.eta_reply_minutes,
            )
            return
    await jobs.auto_despatch(tx, job, now=now)


@router.post("/jobs", status_code=201)
async def create_job(body: JobCreate, request: Request, who: Who) -> dict[str, Any]:
    """A job a dispatcher enters (an agent's comes as `job.requested`): created, then despatched to
    the best technician at once, or offered for ETAs (`request_eta`)."""
    now, job_id = _now(request), new_id()
    async with _runtime(request).transaction() as tx:
        job = jobs.new_job(
            body,
            job_id=job_id,
            tenant_id=who.tenant_id,
            now=now,
            correlation_id=job_id,
            last_event_id=job_id,
        )
        await open_job(
            tx, job, now=now, actor=f"dispatcher {who.label}", request_eta=body.request_eta
        )
        answer = {
            "job_id": job_id,
            "status": job.status,
            "technician_id": job.technician_id,
            "needs_dispatcher": job.needs_dispatcher,
        }
    return answer


def _job_view(job: store.Job) -> dict[str, Any]:
    return job.model_dump(mode="json", exclude={"correlation_id", "last_event_id", "trace_parent"})


@router.get("/jobs")
async def list_jobs(
    request: Request, who: Who, status: str | None = None, needs_dispatcher: bool | None = None
) -> list[dict[str, Any]]:
    query = select(store.Job).where(store.Job.tenant_id == who.tenant_id)
    if status is not None:
        query = query.where(store.Job.status == status)
    if needs_dispatcher is not None:
        query = query.where(store.Job.needs_dispatcher == needs_dispatcher)
    async with _runtime(request).db.reader() as session:
        rows = await session.exec(query.order_by(col(store.Job.created_at)).limit(1000))
        return [_job_view(job) for job in rows.all()]


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The job with its `status` and `technician_id`, its deployment log, every message sent about
    it (exactly as sent) and the ETAs asked for."""
    async with _runtime(request).db.reader() as session:
        job = await session.get(store.Job, job_id)
        if job is None or job.tenant_id != who.tenant_id:
            raise HTTPException(404, "no such job")
        log = await store.deployments(session, job_id)
        sent = await store.sent_for(session, job_id=job_id)
        asked = await store.eta_requests(session, job_id)
    return {
        **_job_view(job),
        "deployments": [d.model_dump(mode="json", exclude={"tenant_id", "job_id"}) for d in log],
        "sent": [s.model_dump(mode="json", exclude={"tenant_id"}) for s in sent],
        "eta_requests": [a.model_dump(mode="json", exclude={"job_id"}) for a in asked],
    }


class Assign(BaseModel):
    technician_id: str
    medium: Medium | None = None
    """How the job is sent (default: the technician's own); `phone` logs a call made."""
    note: str | None = Field(default=None, max_length=1000)


@router.post("/jobs/{job_id}/assign")
async def assign(job_id: str, body: Assign, request: Request, who: Who) -> dict[str, Any]:
    """Manual despatch: the dispatcher chooses the technician and the medium; a job held by someone
    else is taken back from them first (logged as reassigned)."""
    now, actor = _now(request), f"dispatcher {who.label}"
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        tech = await _technician(tx, body.technician_id, who.tenant_id)
        held_by = job.technician_id
        if job.status in ("despatched", "confirmed", "en_route") and held_by is not None:
            reason = f"reassigned to {tech.technician_id} by {actor}"
            await jobs.move(tx, job, "created", now=now, actor=actor, action="reassigned",
                            reason=reason)  # fmt: skip
            jobs.send(tx, await _technician(tx, held_by, who.tenant_id),
                      f"Job {job_id[:8]} withdrawn",
                      f"Job {job_id} ({job.work_type} at {job.address}) is {reason}.",
                      job_id=job_id, now=now)  # fmt: skip
        await jobs.despatch(
            tx,
            job,
            tech,
            now=now,
            actor=actor,
            automatic=False,
            medium=body.medium,
            note=body.note,
            reason=f"manual despatch by {actor} via {body.medium or tech.medium}",
        )
        return {"job_id": job_id, "status": job.status, "technician_id": job.technician_id}


class TechnicianSays(BaseModel):
    technician_id: str
    reason: str = Field(default="", max_length=500)


@router.post("/jobs/{job_id}/confirm")
async def confirm(job_id: str, body: TechnicianSays, request: Request, who: Who) -> dict[str, Any]:
    now = _now(request)
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        if job.status == "confirmed" and job.technician_id == body.technician_id:
            return {"job_id": job_id, "status": job.status}  # the same confirmation again
        _held_by(job, body.technician_id)
        await jobs.move(
            tx,
            job,
            "confirmed",
            now=now,
            actor=f"technician {body.technician_id}",
            reason=body.reason or "confirmed by the technician",
        )
        return {"job_id": job_id, "status": job.status}


@router.post("/jobs/{job_id}/decline")
async def decline(job_id: str, body: TechnicianSays, request: Request, who: Who) -> dict[str, Any]:
    """The technician will not take it: it is re-despatched to someone else."""
    now = _now(request)
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        _held_by(job, body.technician_id)
        if job.status != "despatched":
            raise HTTPException(409, f"the job is {job.status}; only a despatched job is declined")
        await jobs.not_taken(
            tx,
            job,
            now=now,
            actor=f"technician {body.technician_id}",
            action="declined",
            reason=f"declined: {body.reason or 'no reason'}",
        )
        return {"job_id": job_id, "status": job.status, "technician_id": job.technician_id}


class Progress(TechnicianSays):
    status: Literal["en_route", "on_site", "completed", "failed"]


@router.post("/jobs/{job_id}/status")
async def progress(job_id: str, body: Progress, request: Request, who: Who) -> dict[str, Any]:
    """The technician's progress. On site, their last known location becomes the site's."""
    now = _now(request)
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        if job.status == body.status and job.technician_id == body.technician_id:
            return {"job_id": job_id, "status": job.status}  # reported twice
        _held_by(job, body.technician_id)
        await jobs.move(
            tx,
            job,
            body.status,
            now=now,
            actor=f"technician {body.technician_id}",
            reason=body.reason or body.status.replace("_", " "),
        )
        if body.status == "on_site":
            tech = await _technician(tx, body.technician_id, who.tenant_id)
            tech.lat, tech.lon, tech.located_at = job.lat, job.lon, now
            tx.session.add(tech)
        return {"job_id": job_id, "status": job.status}


class Cancel(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: str, body: Cancel, request: Request, who: Who) -> dict[str, Any]:
    now, actor = _now(request), f"dispatcher {who.label}"
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        tech = job.technician_id
        await jobs.move(tx, job, "cancelled", now=now, actor=actor, reason=body.reason)
        if tech is not None:
            held = await _technician(tx, tech, who.tenant_id)
            jobs.send(
                tx,
                held,
                f"Job {job_id[:8]} cancelled",
                f"Job {job_id} ({job.work_type} at {job.address}) is cancelled: {body.reason}",
                job_id=job_id,
                now=now,
            )
        return {"job_id": job_id, "status": job.status}


class Pin(BaseModel):
    pinned: bool = True


@router.post("/jobs/{job_id}/pin")
async def pin(job_id: str, body: Pin, request: Request, who: Who) -> dict[str, Any]:
    """A pinned job keeps its technician and time when the day is re-planned."""
    async with _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        job.pinned = body.pinned
        tx.session.add(job)
        await store.log(
            tx.session,
            job,
            "pinned" if body.pinned else "unpinned",
            actor=f"dispatcher {who.label}",
        )
        return {"job_id": job_id, "pinned": job.pinned}


class AskEta(BaseModel):
    technician_ids: list[str] = []
    """Whom to ask (default: the nearest technicians the automatic rule would consider)."""
    rule: Literal["earliest", "dispatcher"] = "dispatcher"
    reply_within_minutes: int | None = Field(default=None, ge=1, le=24 * 60)


@router.post("/jobs/{job_id}/eta-requests")
async def ask_eta(job_id: str, body: AskEta, request: Request, who: Who) -> dict[str, Any]:
    now = _now(request)
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        tenant = await store.tenant(tx.session, who.tenant_id)
        asked = body.technician_ids or await eta.candidates(tx, job, now)
        await eta.request(
            tx,
            job,
            asked,
            rule=body.rule,
            now=now,
            actor=f"dispatcher {who.label}",
            reply_within_minutes=body.reply_within_minutes or tenant.config.eta_reply_minutes,
        )
        return {"job_id": job_id, "asked": asked}


class EtaReply(BaseModel):
    technician_id: str
    eta_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    """None: declines."""


@router.post("/jobs/{job_id}/eta-replies")
async def eta_reply(job_id: str, body: EtaReply, request: Request, who: Who) -> dict[str, Any]:
    now = _now(request)
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        await eta.reply(tx, job, body.technician_id, body.eta_minutes, now=now)
        return {"job_id": job_id, "status": job.status, "technician_id": job.technician_id}


class Pick(BaseModel):
    technician_id: str


@router.post("/jobs/{job_id}/eta-pick")
async def eta_pick(job_id: str, body: Pick, request: Request, who: Who) -> dict[str, Any]:
    now, actor = _now(request), f"dispatcher {who.label}"
    async with _refusals(), _runtime(request).transaction() as tx:
        job = await _job(tx, job_id, who.tenant_id)
        if job.status != "created":
            raise HTTPException(409, f"the job is already {job.status}")
        await eta.pick(
            tx,
            job,
            body.technician_id,
            now=now,
            actor=actor,
            reason=f"picked from the ETAs by {actor}",
        )
        return {"job_id": job_id, "status": job.status, "technician_id": job.technician_id}


@router.get("/technicians")
async def technicians(request: Request, who: Who) -> list[dict[str, Any]]:
    """Each technician with their skills, shifts, last known location, whether they are on shift
    now and the jobs they hold."""
    now = _now(request)
    async with _runtime(request).transaction() as tx:
        tenant = await store.tenant(tx.session, who.tenant_id)
        rows = {t.technician_id: t for t in await store.technicians(tx.session, who.tenant_id)}
        views = await jobs.team(tx, tenant, now)
    return [
        {
            **rows[v.technician_id].model_dump(mode="json", exclude={"tenant_id"}),
            "on_shift": v.on_shift(now),
            "current_jobs": [j.job_id for j in v.jobs],
            "free_from": v.free_from.isoformat(),
        }
        for v in views
    ]


class Location(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@router.post("/technicians/{technician_id}/location")
async def located(technician_id: str, body: Location, request: Request, who: Who) -> dict[str, Any]:
    async with _runtime(request).transaction() as tx:
        tech = await tx.session.get(store.Technician, technician_id)
        if tech is None or tech.tenant_id != who.tenant_id:
            raise HTTPException(404, "no such technician")
        tech.lat, tech.lon, tech.located_at = body.lat, body.lon, _now(request)
        tx.session.add(tech)
    return {"technician_id": technician_id, "lat": body.lat, "lon": body.lon}


class NewMessage(BaseModel):
    kind: str = Field(default="notice", pattern=r"^[a-z_]{1,32}$")
    """notice, safety, roster, ... (the approval policy names the kinds that need approval)."""
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=10000)
    technicians: list[str] = []
    teams: list[str] = []


@router.post("/messages", status_code=201)
async def new_message(body: NewMessage, request: Request, who: Who) -> dict[str, Any]:
    """A message to technicians and teams: sent now, or held for approval where the policy says."""
    async with _refusals(), _runtime(request).transaction() as tx:
        message = await fieldcomm.create(
            tx,
            who.tenant_id,
            kind=body.kind,
            subject=body.subject,
            body=body.body,
            author=who.label,
            technicians=body.technicians,
            teams=body.teams,
            now=_now(request),
        )
        return {
            "message_id": message.message_id,
            "status": message.status,
            "approval_reason": message.approval_reason,
        }


async def _message(tx: Transaction, message_id: str, tenant_id: str) -> store.FieldMessage:
    message = await tx.session.get(store.FieldMessage, message_id)
    if message is None or message.tenant_id != tenant_id:
        raise HTTPException(404, "no such message")
    return message


@router.get("/messages/{message_id}")
async def get_message(message_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The coordinator's view: the message, its approval, and each recipient's status (pending,
    acknowledged, declined, eta) with how often they were chased."""
    async with _runtime(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        recipients = await store.recipients(tx.session, message_id)
        sent = await store.sent_for(tx.session, message_id=message_id)
    return {
        **message.model_dump(mode="json", exclude={"tenant_id", "correlation_id"}),
        "recipients": [r.model_dump(mode="json", exclude={"message_id"}) for r in recipients],
        "sent": [s.model_dump(mode="json", exclude={"tenant_id"}) for s in sent],
    }


class Decision(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/messages/{message_id}/approve")
async def approve(message_id: str, body: Decision, request: Request, who: Who) -> dict[str, Any]:
    async with _refusals(), _runtime(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.decide(
            tx, message, approver=who.label, approve=True, reason=body.reason, now=_now(request)
        )
        return {"message_id": message_id, "status": message.status}


@router.post("/messages/{message_id}/reject")
async def reject(message_id: str, body: Decision, request: Request, who: Who) -> dict[str, Any]:
    if not body.reason:
        raise HTTPException(422, "a rejection needs a reason")
    async with _refusals(), _runtime(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.decide(
            tx,
            message,
            approver=who.label,
            approve=False,
            reason=body.reason,
            now=_now(request),
        )
        return {"message_id": message_id, "status": message.status}


class Response(BaseModel):
    technician_id: str
    response: Literal["acknowledged", "declined", "eta"]
    eta_minutes: int | None = Field(default=None, ge=0, le=24 * 60)


@router.post("/messages/{message_id}/responses")
async def respond(message_id: str, body: Response, request: Request, who: Who) -> dict[str, Any]:
    async with _refusals(), _runtime(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.respond(
            tx, message, body.technician_id, body.response, body.eta_minutes, now=_now(request)
        )
        return {
            "message_id": message_id,
            "technician_id": body.technician_id,
            "status": body.response,
        }


class PlanRequest(BaseModel):
    freeze_minutes: int = Field(default=60, ge=0, le=24 * 60)
    """Jobs planned to start within this many minutes from now do not move."""
    time_limit_seconds: float = Field(default=5.0, gt=0, le=120)
    apply: bool = False
    """Despatch the moved jobs to their new technicians (default: only propose)."""


@router.post("/plan")
async def plan(body: PlanRequest, request: Request, who: Who) -> dict[str, Any]:
    """Re-optimise the day's unstarted jobs; the plan with the total travel before and after."""
    now, actor = _now(request), f"dispatcher {who.label}"
    runtime = _runtime(request)
    async with runtime.db.reader() as session:
        tenant = await store.tenant(session, who.tenant_id)
        freeze_at = now + timedelta(minutes=body.freeze_minutes)
        problem = await replan.problem(session, tenant, now=now, freeze_at=freeze_at)
    # Solved outside any transaction (it takes seconds), in a thread so the service stays live.
    before = planning.current(problem)
    after = await asyncio.to_thread(planning.optimise, problem, time_limit=body.time_limit_seconds)
    moved = list(planning.moved(problem, after))
    if body.apply:
        async with runtime.transaction() as tx:
            await replan.apply(tx, who.tenant_id, problem, after, now=now, actor=actor)
    return {**replan.describe(problem, before, after, moved), "applied": body.apply}
