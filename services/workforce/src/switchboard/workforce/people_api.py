"""Workforce's API about people (operator token): an agent's published shifts, and leave
(booked, listed, cancelled; a roster made later plans around it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from switchboard.common.auth import OPERATORS, policy
from switchboard.workforce import domain, planning, store
from switchboard.workforce.context import Workforce
from switchboard.workforce.deps import Tenant, calendar_of, check_span, today_of

router = APIRouter(
    prefix="/v1",
    tags=["workforce"],
    dependencies=[policy(read=OPERATORS, write=("team_leader",))],
)
MAX_LEAVE_DAYS = 60


@router.get("/agents/{agent_id}/schedule")
async def agent_schedule(
    agent_id: str, tenant: Tenant, request: Request, start: Annotated[date | None, Query()] = None
) -> dict[str, Any]:
    """An agent's published shifts for the week starting `start` (default: this week)."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    week = domain.week_of(start or today_of(context, cal))
    async with context.runtime.db.reader() as session:
        agent = await session.get(store.WorkforceAgent, agent_id)
        if agent is None or agent.tenant_id != tenant:
            raise HTTPException(404, "no such agent")
        published = await store.published_roster(session, tenant_id=tenant, week_start=week)
        rows = (
            []
            if published is None
            else await store.shifts(session, roster_id=published.roster_id, agent_id=agent_id)
        )
    return {
        "agent_id": agent_id,
        "week_start": week.isoformat(),
        "shifts": [{"day": r.day.isoformat(), "activities": r.activities} for r in rows],
    }


class LeaveRequest(BaseModel):
    start: date
    end: date
    """The last day of leave (inclusive)."""
    reason: str = Field(default="annual leave", min_length=1, max_length=200)


@router.post("/agents/{agent_id}/leave", status_code=201)
async def add_leave(
    agent_id: str, body: LeaveRequest, tenant: Tenant, request: Request
) -> dict[str, Any]:
    """Days of leave for an agent: rosters made from now on keep them free (a published roster
    that has a shift on one lists it among its violations)."""
    days = (body.end - body.start).days + 1
    if not 1 <= days <= MAX_LEAVE_DAYS:
        raise HTTPException(422, f"leave runs from start to end, 1 to {MAX_LEAVE_DAYS} days")
    context = Workforce.of(request)
    async with context.runtime.transaction() as tx:
        agent = await tx.session.get(store.WorkforceAgent, agent_id)
        if agent is None or agent.tenant_id != tenant:
            raise HTTPException(404, "no such agent")
        for offset in range(days):
            await tx.session.merge(
                store.Leave(
                    agent_id=agent_id,
                    tenant_id=tenant,
                    day=body.start + timedelta(days=offset),
                    reason=body.reason,
                )
            )
    return {
        "agent_id": agent_id,
        "start": body.start.isoformat(),
        "end": body.end.isoformat(),
        "days": days,
        "reason": body.reason,
    }


@router.get("/leave")
async def list_leave(tenant: Tenant, request: Request, start: date, end: date) -> dict[str, Any]:
    """Every agent's leave between `start` and `end` (the centre file's and entered)."""
    check_span(start, end)
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    found: dict[str, dict[date, str]] = {}
    async with context.runtime.db.reader() as session:
        week = domain.week_of(start)
        while week <= end:
            for agent, days in (await planning.leave_days(session, cal, week)).items():
                found.setdefault(agent, {}).update(days)
            week += timedelta(days=7)
    return {
        "leave": [
            {"agent_id": agent, "day": day.isoformat(), "reason": reason}
            for agent, days in sorted(found.items())
            for day, reason in sorted(days.items())
            if start <= day <= end
        ]
    }


@router.delete("/agents/{agent_id}/leave/{day}", status_code=204)
async def cancel_leave(agent_id: str, day: date, tenant: Tenant, request: Request) -> None:
    context = Workforce.of(request)
    async with context.runtime.transaction() as tx:
        row = await tx.session.get(store.Leave, (agent_id, day))
        if row is None or row.tenant_id != tenant:
            raise HTTPException(404, "no leave entered for that agent on that day")
        await tx.session.delete(row)
