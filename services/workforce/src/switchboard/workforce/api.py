"""Workforce's HTTP API for team leaders and planners (operator token): history, forecasts with
their error, staffing per interval, rosters (generate, inspect, publish), today's picture and
adherence. Agents see their own schedule through the desktop."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from switchboard.common.auth import OPERATORS, policy
from switchboard.workforce import adherence, domain, intraday, planning, publisher, roster, store
from switchboard.workforce.context import Workforce
from switchboard.workforce.deps import Tenant, calendar_of, check_span, today_of
from switchboard.workforce.planning import Calendar

router = APIRouter(
    prefix="/v1",
    tags=["workforce"],
    dependencies=[policy(read=OPERATORS, write=("team_leader",))],
)


@router.get("/history")
async def history(tenant: Tenant, request: Request, start: date, end: date) -> dict[str, Any]:
    """Offered, handled, abandoned and handle time per queue, channel and interval (local times),
    for the days `start`..`end` inclusive."""
    check_span(start, end)
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    async with context.runtime.db.reader() as session:
        rows = await store.history(
            session, tenant_id=tenant, since=cal.day_bounds(start)[0], until=cal.day_bounds(end)[1]
        )
    return {
        "tenant_id": tenant,
        "interval_minutes": cal.config.interval_minutes,
        "intervals": [
            {
                "start": cal.stamp(cal.local(r.slot)),
                "queue_id": r.queue_id,
                "channel": r.channel,
                "offered": r.offered,
                "handled": r.handled,
                "abandoned": r.abandoned,
                "answered_in_target": r.answered_in_target,
                "average_handle_seconds": round(r.handle_seconds / r.wrapped, 1)
                if r.wrapped
                else None,
            }
            for r in rows
        ],
    }


class ForecastRequest(BaseModel):
    start: date | None = None
    """The first day forecast (default: today)."""


@router.post("/forecasts", status_code=201)
async def create_forecast(
    body: ForecastRequest, tenant: Tenant, request: Request
) -> dict[str, Any]:
    """Forecast the coming weeks from the history, with its error on the held-back days."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    async with context.runtime.transaction() as tx:
        run = await planning.make_forecast(
            tx.session, cal, start=body.start or today_of(context, cal)
        )
        summary = await _forecast_summary(tx.session, cal, run)
    context.tenant_changed(tenant)
    return summary


@router.get("/forecasts/latest")
async def latest_forecast(tenant: Tenant, request: Request) -> dict[str, Any]:
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    async with context.runtime.db.reader() as session:
        run = await store.latest_forecast(session, tenant_id=tenant)
        if run is None:
            raise HTTPException(404, "no forecast yet: POST /v1/forecasts")
        return await _forecast_summary(session, cal, run)


async def _forecast_summary(session: Any, cal: Calendar, run: store.ForecastRun) -> dict[str, Any]:
    start, end = cal.day_bounds(run.start)[0], cal.day_bounds(run.start + timedelta(run.days))[0]
    daily: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for point in await store.forecast_points(session, run_id=run.run_id, since=start, until=end):
        daily[cal.local(point.slot).date().isoformat()][point.queue_id] += point.contacts
    return {
        "run_id": run.run_id,
        "tenant_id": run.tenant_id,
        "start": run.start.isoformat(),
        "days": run.days,
        "interval_minutes": run.interval_minutes,
        "history_days": run.history_days,
        "created_at": run.created_at.isoformat(),
        "accuracy": {"wape": run.wape, "mape": run.mape, "holdout_days": cal.config.holdout_days},
        "patience_seconds": run.patience,
        "daily": {
            day: {q: round(v, 1) for q, v in queues.items()}
            for day, queues in sorted(daily.items())
        },
    }


@router.get("/staffing")
async def staffing(tenant: Tenant, request: Request, day: date | None = None) -> dict[str, Any]:
    """Agents needed per queue and interval of `day`, how they were worked out, and with
    shrinkage, from the latest forecast."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    day = day or today_of(context, cal)
    async with context.runtime.db.reader() as session:
        run = await store.latest_forecast(session, tenant_id=tenant)
        if run is None:
            raise HTTPException(404, "no forecast yet: POST /v1/forecasts")
        needs = await planning.staffing(session, cal, run, since=day, days=1)
    return {
        "day": day.isoformat(),
        "run_id": run.run_id,
        "shrinkage_percent": cal.config.shrinkage_percent,
        "queues": {
            queue: [
                {
                    "start": cal.stamp(slot),
                    "contacts": round(n.contacts, 2),
                    "required": n.required,
                    "to_schedule": n.to_schedule,
                    "method": n.method,
                    "service_level": None if n.service_level is None else round(n.service_level, 3),
                }
                for slot, n in sorted(slots.items())
            ]
            for queue, slots in needs.items()
        },
    }


class RosterRequest(BaseModel):
    week_start: date
    """A Monday."""


@router.post("/rosters", status_code=201)
async def create_roster(body: RosterRequest, tenant: Tenant, request: Request) -> dict[str, Any]:
    """A draft roster for the week covering the latest forecast's staffing within the rules."""
    if body.week_start.weekday() != 0:
        raise HTTPException(422, "week_start must be a Monday")
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    async with context.runtime.transaction() as tx:
        run = await store.latest_forecast(tx.session, tenant_id=tenant)
        if run is None:
            raise HTTPException(409, "no forecast to roster against: POST /v1/forecasts first")
        try:
            row, _ = await planning.make_roster(
                tx.session,
                cal,
                run,
                week_start=body.week_start,
                solve_seconds=context.settings.workforce_solve_seconds,
            )
        except roster.SolveTimedOut as error:
            raise HTTPException(503, str(error), headers={"Retry-After": "30"}) from None
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
    return await _roster_view(context, cal, row.roster_id)


@router.get("/rosters/{roster_id}")
async def get_roster(roster_id: str, tenant: Tenant, request: Request) -> dict[str, Any]:
    context = Workforce.of(request)
    return await _roster_view(context, await calendar_of(context, tenant), roster_id)


@router.post("/rosters/{roster_id}/publish")
async def publish_roster(roster_id: str, tenant: Tenant, request: Request) -> dict[str, Any]:
    """Publish a draft: it replaces the week's roster and each agent's days reach their desktop."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    async with context.runtime.transaction() as tx:
        row = await tx.session.get(store.Roster, roster_id)
        if row is None or row.tenant_id != tenant:
            raise HTTPException(404, "no such roster")
        if row.status != "draft":
            raise HTTPException(409, f"the roster is {row.status}; only a draft is published")
        sent = await planning.publish(tx, cal, row)
    context.tenant_changed(tenant)
    return {"roster_id": roster_id, "status": "published", "schedules_sent": sent}


async def _roster_view(context: Workforce, cal: Calendar, roster_id: str) -> dict[str, Any]:
    async with context.runtime.db.reader() as session:
        row = await session.get(store.Roster, roster_id)
        if row is None or row.tenant_id != cal.tenant_id:
            raise HTTPException(404, "no such roster")
        rows = await store.shifts(session, roster_id=roster_id)
        run = await session.get(store.ForecastRun, row.forecast_run_id)
        needs = (
            await planning.staffing(session, cal, run, since=row.week_start, days=7) if run else {}
        )
        agents = await planning.roster_agents(session, cal, row.week_start)
    shifts = tuple(
        roster.Shift(
            s.agent_id,
            s.day,
            tuple(
                roster.Activity(cal.local(a.start), cal.local(a.end), a.kind)
                for a in intraday.activities_of(s)
            ),
        )
        for s in rows
    )
    required: dict[datetime, int] = defaultdict(int)
    for slots in needs.values():
        for slot, need in slots.items():
            required[slot] += need.to_schedule
    rules = domain.rules_of(cal.config)
    return {
        "roster_id": row.roster_id,
        "week_start": row.week_start.isoformat(),
        "status": row.status,
        "shortfall": row.shortfall,
        "optimal": row.optimal,
        "violations": roster.violations(shifts, agents, cal.opening, rules),
        "shifts": [
            {
                "agent_id": s.agent_id,
                "day": s.day.isoformat(),
                "paid_minutes": s.paid_minutes,
                "activities": [
                    {"start": cal.stamp(a.start), "end": cal.stamp(a.end), "kind": a.kind}
                    for a in s.activities
                ],
            }
            for s in shifts
        ],
        "coverage": [
            {"start": cal.stamp(slot), "required": need, "scheduled": have}
            for slot, (need, have) in roster.coverage(
                shifts, required, cal.config.interval_minutes
            ).items()
        ],
    }


@router.get("/intraday")
async def intraday_view(tenant: Tenant, request: Request) -> dict[str, Any]:
    """Today per interval: forecast vs actual, required vs rostered vs signed in."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    now = context.clock.now()
    async with context.runtime.db.reader() as session:
        picture = await intraday.picture(
            session, cal, cal.local(now).date(), now, context.requirements
        )
    return picture.model_dump(mode="json")


@router.get("/adherence")
async def adherence_view(tenant: Tenant, request: Request) -> dict[str, Any]:
    """Each rostered agent's adherence and conformance today, and each team's."""
    context = Workforce.of(request)
    cal = await calendar_of(context, tenant)
    now = context.clock.now()
    async with context.runtime.db.reader() as session:
        items = await intraday.adherence_today(session, cal, cal.local(now).date(), now)
    teams: dict[str, list[adherence.Adherence]] = defaultdict(list)
    for item in items:
        teams[item.agent.team or "(no team)"].append(item.figures)
    return {
        "agents": [
            {
                "agent_id": i.agent.agent_id,
                "team": i.agent.team,
                "expected": i.figures.expected_now,
                "actual": i.figures.actual_now,
                "out_since": i.figures.out_since.isoformat() if i.figures.out_since else None,
                "adherence": i.figures.adherence,
                "conformance": i.figures.conformance,
            }
            for i in items
        ],
        "teams": {
            team: dict(zip(("adherence", "conformance"), adherence.team(figures), strict=True))
            for team, figures in sorted(teams.items())
        },
    }


@router.post("/refresh", status_code=202)
async def refresh_now(tenant: Tenant, request: Request) -> dict[str, str]:
    """Re-measure today's picture and adherence now (they refresh by themselves too), and wake
    the publisher, which takes up a tenant onboarded since its last round at once."""
    context = Workforce.of(request)
    await publisher.refresh(context, {tenant})
    context.tenant_changed(tenant)
    return {"status": "refreshed", "tenant_id": tenant}
