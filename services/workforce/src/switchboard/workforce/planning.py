"""Workforce's use cases: forecast from the history, staff the forecast, roster the staffing, and
publish the roster. Each reads through `store`, decides through the pure modules, writes through
`store` and emits through the transaction."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.workforce import ScheduledActivity, SchedulePublished
from switchboard.common.ids import new_id
from switchboard.common.promises_config import HoursConfig
from switchboard.common.runtime import Transaction
from switchboard.common.teams_config import WorkforceConfig
from switchboard.workforce import domain, erlang, forecast, roster, store


@dataclass(frozen=True)
class Calendar:
    """A tenant's calendar and rules, as workforce reads them."""

    tenant_id: str
    zone: ZoneInfo
    config: WorkforceConfig
    opening: dict[int, tuple[time, time]]
    holidays: frozenset[date]

    @classmethod
    def of(cls, row: store.WorkforceTenant) -> Calendar:
        hours = [HoursConfig.model_validate(h) for h in row.hours]
        return cls(
            tenant_id=row.tenant_id,
            zone=ZoneInfo(row.timezone),
            config=WorkforceConfig.model_validate(row.config),
            opening=domain.opening_hours(hours),
            holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
        )

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone).replace(tzinfo=None)

    def utc(self, local: datetime) -> datetime:
        return domain.utc_of(local, self.zone)

    def stamp(self, local: datetime) -> str:
        """A local wall-clock time as ISO 8601 with the tenant's offset (+11:00 in Sydney's
        summer), so nobody has to guess the zone."""
        return local.replace(tzinfo=self.zone).isoformat()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants a local day starts and ends."""
        start = datetime.combine(day, time())
        return self.utc(start), self.utc(start + timedelta(days=1))


async def calendar(session: AsyncSession, tenant_id: str) -> Calendar | None:
    row = await session.get(store.WorkforceTenant, tenant_id)
    return Calendar.of(row) if row else None


HISTORY_WEEKS = 12


async def make_forecast(session: AsyncSession, cal: Calendar, *, start: date) -> store.ForecastRun:
    """Forecast `forecast_weeks` weeks from `start` from up to twelve weeks of history before it,
    with its error on the last `holdout_days` of that history."""
    config = cal.config
    since = cal.utc(datetime.combine(start - timedelta(weeks=HISTORY_WEEKS), time()))
    rows = await store.history(
        session,
        tenant_id=cal.tenant_id,
        since=since,
        until=cal.utc(datetime.combine(start, time())),
    )
    series: dict[tuple[str, str], dict[datetime, float]] = defaultdict(dict)
    figures: dict[tuple[str, str], list[domain.Figures]] = defaultdict(list)
    total: dict[datetime, float] = defaultdict(float)
    for row in rows:
        key, slot = (row.queue_id, row.channel), cal.local(row.slot)
        series[key][slot] = float(row.offered)
        total[slot] += row.offered
        figures[key].append(_figures(row))
    days = 7 * config.forecast_weeks

    def compute() -> tuple[dict[tuple[str, str], dict[datetime, float]], forecast.Accuracy | None]:
        ahead = {
            key: forecast.forecast(
                s,
                start=start,
                days=days,
                interval_minutes=config.interval_minutes,
                holidays=cal.holidays,
            )
            for key, s in series.items()
        }
        enough = total and (max(total) - min(total)).days >= 7 + config.holdout_days
        checked = (
            forecast.evaluate(
                total,
                holdout_days=config.holdout_days,
                interval_minutes=config.interval_minutes,
                holidays=cal.holidays,
            )
            if enough
            else None
        )
        return ahead, checked

    ahead, checked = await asyncio.to_thread(compute)  # statsmodels is CPU work
    patience = {
        queue: domain.patience_seconds(f)
        for (queue, channel), f in figures.items()
        if channel == domain.VOICE
    }
    run = store.ForecastRun(
        run_id=new_id(),
        tenant_id=cal.tenant_id,
        start=start,
        days=days,
        interval_minutes=config.interval_minutes,
        history_days=(max(total) - min(total)).days + 1 if total else 0,
        wape=checked.wape if checked else None,
        mape=checked.mape if checked else None,
        patience=patience,
    )
    session.add(run)
    for (queue, channel), points in ahead.items():
        handle = domain.handle_seconds(figures[queue, channel])
        for slot, contacts in points.items():
            session.add(
                store.ForecastPoint(
                    run_id=run.run_id,
                    queue_id=queue,
                    channel=channel,
                    slot=cal.utc(slot),
                    contacts=contacts,
                    handle_seconds=handle,
                )
            )
    return run


def _figures(row: store.IntervalStat) -> domain.Figures:
    return domain.Figures(
        offered=row.offered,
        handled=row.handled,
        abandoned=row.abandoned,
        answered_in_target=row.answered_in_target,
        wait_seconds=row.wait_seconds,
        wrapped=row.wrapped,
        handle_seconds=row.handle_seconds,
    )


async def staffing(
    session: AsyncSession, cal: Calendar, run: store.ForecastRun, *, since: date, days: int
) -> dict[str, dict[datetime, domain.Need]]:
    """Each queue's need per local interval over `days` days from `since`."""
    points = await store.forecast_points(
        session,
        run_id=run.run_id,
        since=cal.utc(datetime.combine(since, time())),
        until=cal.utc(datetime.combine(since + timedelta(days=days), time())),
    )
    series: dict[tuple[str, str], dict[datetime, float]] = defaultdict(dict)
    handle: dict[tuple[str, str], float] = {}
    for point in points:
        series[point.queue_id, point.channel][cal.local(point.slot)] = point.contacts
        handle[point.queue_id, point.channel] = point.handle_seconds
    targets = await queue_targets(session, cal.tenant_id)
    return await asyncio.to_thread(
        domain.staffing,
        series,
        handle=handle,
        patience=run.patience,
        targets=targets,
        config=cal.config,
    )


async def queue_targets(session: AsyncSession, tenant_id: str) -> dict[str, domain.QueueTarget]:
    return {
        q.queue_id: domain.QueueTarget(
            q.queue_id,
            erlang.Target(q.service_level_percent / 100, q.service_level_seconds),
            frozenset(q.skills),
        )
        for q in await store.queues(session, tenant_id=tenant_id)
    }


async def make_roster(
    session: AsyncSession,
    cal: Calendar,
    run: store.ForecastRun,
    *,
    week_start: date,
    solve_seconds: float,
) -> tuple[store.Roster, roster.Roster]:
    """A draft roster of the week covering the forecast's staffing (with shrinkage)."""
    needs = await staffing(session, cal, run, since=week_start, days=7)
    requirement = {
        queue: {slot: need.to_schedule for slot, need in slots.items()}
        for queue, slots in needs.items()
    }
    agents = await roster_agents(session, cal, week_start)
    rules = domain.rules_of(cal.config)
    rules = roster.Rules(**{**rules.__dict__, "solve_seconds": solve_seconds})
    built = await asyncio.to_thread(
        roster.build,
        week_start=week_start,
        agents=agents,
        requirement=requirement,
        opening=cal.opening,
        rules=rules,
    )
    row = store.Roster(
        roster_id=new_id(),
        tenant_id=cal.tenant_id,
        week_start=week_start,
        forecast_run_id=run.run_id,
        shortfall=built.shortfall,
        optimal=built.optimal,
    )
    session.add(row)
    for shift in built.shifts:
        session.add(
            store.ShiftRow(
                roster_id=row.roster_id,
                agent_id=shift.agent_id,
                day=shift.day,
                start=cal.utc(shift.start),
                end=cal.utc(shift.end),
                activities=[
                    {
                        "start": cal.utc(a.start).isoformat(),
                        "end": cal.utc(a.end).isoformat(),
                        "kind": a.kind,
                    }
                    for a in shift.activities
                ],
            )
        )
    return row, built


async def roster_agents(
    session: AsyncSession, cal: Calendar, week_start: date
) -> list[roster.RosterAgent]:
    targets = (await queue_targets(session, cal.tenant_id)).values()
    leave = await leave_days(session, cal, week_start)
    week = {week_start + timedelta(days=i) for i in range(7)}
    return [
        roster.RosterAgent(
            a.agent_id,
            domain.eligible_queues(a.skills, targets),
            leave=frozenset(d for d in leave.get(a.agent_id, {}) if d in week),
        )
        for a in await store.agents(session, tenant_id=cal.tenant_id)
    ]


async def leave_days(
    session: AsyncSession, cal: Calendar, week_start: date
) -> dict[str, dict[date, str]]:
    """Per agent, the week's days of leave and why: the centre file's and those entered since."""
    days = domain.leave_days(cal.config)
    entered = await store.leave(
        session, tenant_id=cal.tenant_id, since=week_start, until=week_start + timedelta(days=6)
    )
    for row in entered:
        days.setdefault(row.agent_id, {})[row.day] = row.reason
    return days


async def publish(tx: Transaction, cal: Calendar, row: store.Roster) -> int:
    """Publish a draft: it replaces the week's published roster and each agent's day is sent to
    their desktop (a day off too, so an old shift does not linger). Returns the days sent."""
    session = tx.session
    await store.supersede(session, tenant_id=cal.tenant_id, week_start=row.week_start)
    row.status, row.published_at = "published", utcnow()
    session.add(row)
    shifts = {(s.agent_id, s.day): s for s in await store.shifts(session, roster_id=row.roster_id)}
    leave = await leave_days(session, cal, row.week_start)
    sent = 0
    for agent in await store.agents(session, tenant_id=cal.tenant_id):
        for offset in range(7):
            day = row.week_start + timedelta(days=offset)
            shift = shifts.get((agent.agent_id, day))
            activities = (
                [ScheduledActivity.model_validate(a) for a in shift.activities] if shift else []
            )
            payload = SchedulePublished(
                agent_id=agent.agent_id,
                day=day,
                roster_id=row.roster_id,
                activities=activities,
                leave=leave.get(agent.agent_id, {}).get(day),
            )
            await tx.emit(
                Envelope.first(payload, tenant_id=cal.tenant_id, aggregate_id=agent.agent_id)
            )
            sent += 1
    return sent
