"""The desktop's workforce pages: an agent's own schedule and adherence; a team leader's day
(forecast vs actual, required vs rostered vs signed in) and each agent's schedule and adherence."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from switchboard.common.envelope import utcnow
from switchboard.common.runtime import runtime_of
from switchboard.desktop import rosters, store
from switchboard.desktop.commands import Agent

router = APIRouter(prefix="/v1", tags=["desktop"])


@router.get("/schedule")
async def my_schedule(agent: Agent, request: Request) -> dict[str, Any]:
    """The agent's published days from yesterday for two weeks, and their adherence today."""
    since = utcnow().date() - timedelta(days=1)
    async with runtime_of(request).db.reader() as session:
        days = await rosters.schedule(
            session, agent_id=agent.agent_id, since=since, until=since + timedelta(days=14)
        )
        measured = await rosters.adherence_of(session, agent_ids=[agent.agent_id])
    return {
        "agent_id": agent.agent_id,
        "days": [
            {"day": d.day.isoformat(), "activities": d.activities, "leave": d.leave} for d in days
        ],
        "adherence": measured[0].figures if measured else None,
    }


@router.get("/supervisor/workforce")
async def team_day(agent: Agent, request: Request) -> dict[str, Any]:
    """For a team leader: each of their tenants' day per interval, and every agent's schedule and
    adherence today."""
    if not agent.supervisor:
        raise HTTPException(403, "the workforce view is for team leaders")
    async with runtime_of(request).db.reader() as session:
        pictures = await rosters.tenant_days(session, tenant_ids=agent.tenants)
        everyone = await store.colleagues(session, tenant_ids=agent.tenants)
        ids = [a.agent_id for a in everyone]
        days = {p.picture["day"] for p in pictures} or {utcnow().date().isoformat()}
        schedules = {
            (s.agent_id, s.day.isoformat()): s
            for day in days
            for s in await rosters.day_of(session, agent_ids=ids, day=date.fromisoformat(day))
        }
        adherence = {
            a.agent_id: a.figures for a in await rosters.adherence_of(session, agent_ids=ids)
        }
    today = sorted(days)[0]
    return {
        "tenants": [{"tenant_id": p.tenant_id, **p.picture} for p in pictures],
        "agents": [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "state": a.state,
                "schedule": schedules[a.agent_id, today].activities
                if (a.agent_id, today) in schedules
                else [],
                "leave": schedules[a.agent_id, today].leave
                if (a.agent_id, today) in schedules
                else None,
                "adherence": adherence.get(a.agent_id),
            }
            for a in sorted(everyone, key=lambda a: a.agent_id)
        ],
    }
