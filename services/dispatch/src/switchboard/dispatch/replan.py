"""`POST /v1/plan` against the database: the day's unstarted jobs and the technicians on shift as a
planning problem, and, when asked, the plan applied (moved jobs re-despatched with the reason)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import aware
from switchboard.common.runtime import Transaction
from switchboard.dispatch import despatch, domain, jobs, planning, store

UNSTARTED = ("created", "despatched", "confirmed")


def _seconds(origin: datetime, moment: datetime) -> int:
    return round((aware(moment) - origin).total_seconds())


async def problem(
    session: AsyncSession, tenant: store.DispatchTenant, *, now: datetime, freeze_at: datetime
) -> planning.Problem:
    zone = ZoneInfo(tenant.timezone)
    local = now.astimezone(zone)
    day_end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    rows = await store.unstarted_before(
        session, tenant_id=tenant.tenant_id, statuses=UNSTARTED, before=day_end
    )
    day_jobs = [
        planning.PlanJob(
            job_id=job.job_id,
            site=domain.Point(job.lat, job.lon),
            skills=frozenset(job.skills),
            service=job.estimated_minutes * 60,
            window=(max(0, _seconds(now, job.window_start)), max(0, _seconds(now, job.window_end))),
            priority=job.priority,
            technician_id=job.technician_id,
            start=_seconds(now, job.planned_start) if job.planned_start else None,
            fixed=bool(job.technician_id)
            and (
                job.pinned
                or (job.planned_start is not None and aware(job.planned_start) < freeze_at)
            ),
        )
        for job in rows
    ]
    under_way: dict[str, store.Job] = {}
    for job in await store.active_jobs(session, tenant_id=tenant.tenant_id):
        if job.status in ("en_route", "on_site") and job.technician_id:
            under_way[job.technician_id] = job
    techs = []
    for tech in await store.technicians(session, tenant_id=tenant.tenant_id):
        today = [s for s in (jobs.shift_of(c) for c in tech.shifts) if local.weekday() in s.days]
        if not today:
            continue
        opens = min(datetime.combine(local.date(), s.start, zone) for s in today)
        closes = max(datetime.combine(local.date(), s.end, zone) for s in today)
        start, free_from = domain.Point(tech.lat, tech.lon), max(now, opens)
        busy = under_way.get(tech.technician_id)
        if busy is not None:
            start = domain.Point(busy.lat, busy.lon)
            began = aware(busy.planned_start or now)
            free_from = max(free_from, began + timedelta(minutes=busy.estimated_minutes))
        if free_from >= closes:
            continue
        techs.append(
            planning.PlanTech(
                tech.technician_id,
                frozenset(tech.skills),
                start,
                _seconds(now, free_from),
                _seconds(now, closes),
            )
        )
    return planning.Problem.of_the_day(now, techs, day_jobs, jobs.travel_model(tenant))


def describe(
    problem: planning.Problem, before: planning.Plan, after: planning.Plan, moved: list[str]
) -> dict[str, Any]:
    def at(seconds: int) -> str:
        return (problem.origin + timedelta(seconds=seconds)).isoformat()

    return {
        "travel_minutes_before": round(before.travel_seconds / 60, 1),
        "travel_minutes_after": round(after.travel_seconds / 60, 1),
        "jobs": len(problem.jobs),
        "technicians": len(problem.techs),
        "planned_before": sum(len(s) for s in before.routes.values()),
        "planned_after": sum(len(s) for s in after.routes.values()),
        "unassigned": after.unassigned,
        "moved": moved,
        "solve_seconds": round(after.solve_seconds, 3),
        "routes": {
            tech: [
                {
                    "job_id": s.job_id,
                    "start": at(s.start),
                    "travel_minutes": round(s.travel / 60, 1),
                    "fixed": s.fixed,
                }
                for s in stops
            ]
            for tech, stops in after.routes.items()
        },
    }


async def apply(
    tx: Transaction,
    tenant_id: str,
    problem: planning.Problem,
    plan: planning.Plan,
    *,
    now: datetime,
    actor: str,
) -> None:
    """Give each moved or newly planned job to its technician in the plan, at the plan's time
    (a job that has moved on since the plan was made, or was given to someone else meanwhile,
    is left as it is)."""
    await store.lock_tenant(tx.session, tenant_id=tenant_id)
    held = {j.job_id: j.technician_id for j in problem.jobs}
    for tech_id, stops in plan.routes.items():
        for stop in stops:
            if held.get(stop.job_id) == tech_id:
                continue
            job = await store.job_for_update(tx.session, job_id=stop.job_id)
            tech = await tx.session.get(store.Technician, tech_id)
            if job is None or tech is None or job.status not in UNSTARTED:
                continue
            if job.technician_id != held.get(stop.job_id):
                continue  # moved by someone else since the plan was made
            reason = f"re-planned: to {tech_id} (travel {stop.travel / 60:.0f} min)"
            if job.status != "created":
                await jobs.move(
                    tx, job, "created", now=now, actor=actor, reason=reason, action="re-planned"
                )
            await despatch.despatch(
                tx,
                job,
                tech,
                now=now,
                actor=actor,
                reason=reason,
                automatic=False,
                travel_minutes=stop.travel / 60,
                start=problem.origin + timedelta(seconds=stop.start),
            )
