"""Dispatchers' jobs: enter one, list and read them, assign, confirm, decline, move through the
status machine, cancel and pin, ask the nearest technicians for ETAs and pick from their answers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from switchboard.common.events.desktop import JobDetails
from switchboard.common.events.dispatch import Medium
from switchboard.common.ids import new_id
from switchboard.common.runtime import runtime_of
from switchboard.dispatch import despatch, eta, jobs, messages_store, notices, opening, store
from switchboard.dispatch.deps import (
    Who,
    held_by,
    job_for_change,
    now_of,
    refusals,
    technician_of,
)

router = APIRouter()


class JobCreate(JobDetails):
    request_eta: bool = False
    """Offer it to the nearest technicians for their ETAs instead of assigning outright; the
    earliest ETA wins."""


@router.post("/jobs", status_code=201)
async def create_job(body: JobCreate, request: Request, who: Who) -> dict[str, Any]:
    """A job a dispatcher enters (an agent's comes as `job.requested`): created, then despatched to
    the best technician at once, or offered for ETAs (`request_eta`)."""
    now, job_id = now_of(request), new_id()
    async with runtime_of(request).transaction() as tx:
        job = jobs.new_job(
            body,
            job_id=job_id,
            tenant_id=who.tenant_id,
            now=now,
            correlation_id=job_id,
            last_event_id=job_id,
        )
        await opening.open_job(
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
    async with runtime_of(request).db.reader() as session:
        rows = await store.jobs_of(
            session, tenant_id=who.tenant_id, status=status, needs_dispatcher=needs_dispatcher
        )
        return [_job_view(job) for job in rows]


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The job with its `status` and `technician_id`, its deployment log, every message sent about
    it (exactly as sent) and the ETAs asked for."""
    async with runtime_of(request).db.reader() as session:
        job = await session.get(store.Job, job_id)
        if job is None or job.tenant_id != who.tenant_id:
            raise HTTPException(404, "no such job")
        log = await store.deployments(session, job_id=job_id)
        sent = await messages_store.sent_for(session, job_id=job_id)
        asked = await messages_store.eta_requests(session, job_id=job_id)
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
    now, actor = now_of(request), f"dispatcher {who.label}"
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        tech = await technician_of(tx, body.technician_id, who.tenant_id)
        holder = job.technician_id
        if job.status in ("despatched", "confirmed", "en_route") and holder is not None:
            reason = f"reassigned to {tech.technician_id} by {actor}"
            await jobs.move(
                tx, job, "created", now=now, actor=actor, action="reassigned", reason=reason
            )
            notices.send(
                tx,
                await technician_of(tx, holder, who.tenant_id),
                f"Job {job_id[:8]} withdrawn",
                f"Job {job_id} ({job.work_type} at {job.address}) is {reason}.",
                job_id=job_id,
                now=now,
            )
        await despatch.despatch(
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
    now = now_of(request)
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        if job.status == "confirmed" and job.technician_id == body.technician_id:
            return {"job_id": job_id, "status": job.status}  # the same confirmation again
        held_by(job, body.technician_id)
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
    now = now_of(request)
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        held_by(job, body.technician_id)
        if job.status != "despatched":
            raise HTTPException(409, f"the job is {job.status}; only a despatched job is declined")
        await despatch.not_taken(
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
    now = now_of(request)
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        if job.status == body.status and job.technician_id == body.technician_id:
            return {"job_id": job_id, "status": job.status}  # reported twice
        held_by(job, body.technician_id)
        await jobs.move(
            tx,
            job,
            body.status,
            now=now,
            actor=f"technician {body.technician_id}",
            reason=body.reason or body.status.replace("_", " "),
        )
        if body.status == "on_site":
            tech = await technician_of(tx, body.technician_id, who.tenant_id)
            tech.lat, tech.lon, tech.located_at = job.lat, job.lon, now
            tx.session.add(tech)
        return {"job_id": job_id, "status": job.status}


class Cancel(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: str, body: Cancel, request: Request, who: Who) -> dict[str, Any]:
    now, actor = now_of(request), f"dispatcher {who.label}"
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        tech = job.technician_id
        await jobs.move(tx, job, "cancelled", now=now, actor=actor, reason=body.reason)
        if tech is not None:
            held = await technician_of(tx, tech, who.tenant_id)
            notices.send(
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
    async with runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        job.pinned = body.pinned
        tx.session.add(job)
        await store.log(
            tx.session,
            job=job,
            action="pinned" if body.pinned else "unpinned",
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
    now = now_of(request)
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        tenant = await store.tenant(tx.session, tenant_id=who.tenant_id)
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
    now = now_of(request)
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
        await eta.reply(tx, job, body.technician_id, body.eta_minutes, now=now)
        return {"job_id": job_id, "status": job.status, "technician_id": job.technician_id}


class Pick(BaseModel):
    technician_id: str


@router.post("/jobs/{job_id}/eta-pick")
async def eta_pick(job_id: str, body: Pick, request: Request, who: Who) -> dict[str, Any]:
    now, actor = now_of(request), f"dispatcher {who.label}"
    async with refusals(), runtime_of(request).transaction() as tx:
        job = await job_for_change(tx, job_id, who.tenant_id)
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
