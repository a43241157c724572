"""The field staff: technicians (where they are, what they hold), messages to them with their
approvals and answers, and the day's plan."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from switchboard.common.runtime import Transaction, runtime_of
from switchboard.dispatch import fieldcomm, jobs, messages_store, planning, replan, store
from switchboard.dispatch.deps import Who, now_of, refusals

router = APIRouter()


@router.get("/technicians")
async def technicians(request: Request, who: Who) -> list[dict[str, Any]]:
    """Each technician with their skills, shifts, last known location, whether they are on shift
    now and the jobs they hold."""
    now = now_of(request)
    async with runtime_of(request).transaction() as tx:
        tenant = await store.tenant(tx.session, tenant_id=who.tenant_id)
        rows = {
            t.technician_id: t for t in await store.technicians(tx.session, tenant_id=who.tenant_id)
        }
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
    async with runtime_of(request).transaction() as tx:
        tech = await tx.session.get(store.Technician, technician_id)
        if tech is None or tech.tenant_id != who.tenant_id:
            raise HTTPException(404, "no such technician")
        tech.lat, tech.lon, tech.located_at = body.lat, body.lon, now_of(request)
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
    async with refusals(), runtime_of(request).transaction() as tx:
        message = await fieldcomm.create(
            tx,
            who.tenant_id,
            kind=body.kind,
            subject=body.subject,
            body=body.body,
            author=who.label,
            technicians=body.technicians,
            teams=body.teams,
            now=now_of(request),
        )
        return {
            "message_id": message.message_id,
            "status": message.status,
            "approval_reason": message.approval_reason,
        }


async def _message(tx: Transaction, message_id: str, tenant_id: str) -> messages_store.FieldMessage:
    message = await tx.session.get(messages_store.FieldMessage, message_id)
    if message is None or message.tenant_id != tenant_id:
        raise HTTPException(404, "no such message")
    return message


@router.get("/messages/{message_id}")
async def get_message(message_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The coordinator's view: the message, its approval, and each recipient's status (pending,
    acknowledged, declined, eta) with how often they were chased."""
    async with runtime_of(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        recipients = await messages_store.recipients(tx.session, message_id=message_id)
        sent = await messages_store.sent_for(tx.session, message_id=message_id)
    return {
        **message.model_dump(mode="json", exclude={"tenant_id", "correlation_id"}),
        "recipients": [r.model_dump(mode="json", exclude={"message_id"}) for r in recipients],
        "sent": [s.model_dump(mode="json", exclude={"tenant_id"}) for s in sent],
    }


class Decision(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/messages/{message_id}/approve")
async def approve(message_id: str, body: Decision, request: Request, who: Who) -> dict[str, Any]:
    async with refusals(), runtime_of(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.decide(
            tx, message, approver=who.label, approve=True, reason=body.reason, now=now_of(request)
        )
        return {"message_id": message_id, "status": message.status}


@router.post("/messages/{message_id}/reject")
async def reject(message_id: str, body: Decision, request: Request, who: Who) -> dict[str, Any]:
    if not body.reason:
        raise HTTPException(422, "a rejection needs a reason")
    async with refusals(), runtime_of(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.decide(
            tx,
            message,
            approver=who.label,
            approve=False,
            reason=body.reason,
            now=now_of(request),
        )
        return {"message_id": message_id, "status": message.status}


class Response(BaseModel):
    technician_id: str
    response: Literal["acknowledged", "declined", "eta"]
    eta_minutes: int | None = Field(default=None, ge=0, le=24 * 60)


@router.post("/messages/{message_id}/responses")
async def respond(message_id: str, body: Response, request: Request, who: Who) -> dict[str, Any]:
    async with refusals(), runtime_of(request).transaction() as tx:
        message = await _message(tx, message_id, who.tenant_id)
        await fieldcomm.respond(
            tx, message, body.technician_id, body.response, body.eta_minutes, now=now_of(request)
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
    now, actor = now_of(request), f"dispatcher {who.label}"
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        tenant = await store.tenant(session, tenant_id=who.tenant_id)
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
