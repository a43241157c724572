"""Today as it happens: forecast against actual, requirement against rostered against signed in,
and each rostered agent's adherence. Read-only; the publisher sends what changed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import aware
from switchboard.common.events.workforce import IntradayInterval, IntradayPicture
from switchboard.workforce import adherence, domain, planning, store
from switchboard.workforce.planning import Calendar
from switchboard.workforce.roster import Activity


class Requirements:
    """Staffing per (forecast run, day), worked out once: the Erlang figures of a day cost tenths
    of a second, and the picture is refreshed every few seconds."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, date], dict[datetime, tuple[int, int]]] = {}

    async def of(
        self, session: AsyncSession, cal: Calendar, run: store.ForecastRun, day: date
    ) -> dict[datetime, tuple[int, int]]:
        """Per local interval: (required, to schedule), summed over the queues."""
        key = (run.run_id, day)
        if key not in self._cache:
            needs = await planning.staffing(session, cal, run, since=day, days=1)
            summed: dict[datetime, tuple[int, int]] = defaultdict(lambda: (0, 0))
            for slots in needs.values():
                for slot, need in slots.items():
                    required, to_schedule = summed[slot]
                    summed[slot] = (required + need.required, to_schedule + need.to_schedule)
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = dict(summed)
        return self._cache[key]


async def picture(
    session: AsyncSession, cal: Calendar, day: date, now: datetime, requirements: Requirements
) -> IntradayPicture:
    minutes = cal.config.interval_minutes
    step = timedelta(minutes=minutes)
    since, until = cal.day_bounds(day)
    forecast: dict[datetime, float] = defaultdict(float)
    needs: dict[datetime, tuple[int, int]] = {}
    run = await store.latest_forecast(session, tenant_id=cal.tenant_id)
    if run is not None:
        for point in await store.forecast_points(
            session, run_id=run.run_id, since=since, until=until
        ):
            forecast[cal.local(point.slot)] += point.contacts
        needs = await requirements.of(session, cal, run, day)
    actual: dict[datetime, int] = defaultdict(int)
    for row in await store.history(session, tenant_id=cal.tenant_id, since=since, until=until):
        actual[cal.local(row.slot)] += row.offered
    schedules = await day_schedules(session, cal, day)
    spans = await store.spans(session, tenant_id=cal.tenant_id, since=since, until=until)
    local_now = cal.local(now)
    slots = sorted(set(forecast) | set(needs) | set(actual) | _opening_slots(cal, day))
    intervals = []
    for slot in slots:
        started = slot <= local_now
        intervals.append(
            IntradayInterval(
                start=cal.utc(slot),
                forecast=round(forecast.get(slot, 0.0), 2),
                actual=actual.get(slot, 0) if started else None,
                required=needs.get(slot, (0, 0))[0],
                to_schedule=needs.get(slot, (0, 0))[1],
                scheduled=sum(
                    1
                    for acts in schedules.values()
                    if any(a.kind == "work" and a.start <= cal.utc(slot) < a.end for a in acts)
                ),
                logged_in=_signed_in(spans, cal.utc(slot), cal.utc(slot + step), now)
                if started
                else None,
            )
        )
    return IntradayPicture(
        day=day,
        interval_minutes=minutes,
        intervals=intervals,
        forecast_wape=run.wape if run else None,
        forecast_mape=run.mape if run else None,
    )


def _opening_slots(cal: Calendar, day: date) -> set[datetime]:
    window = cal.opening.get(day.weekday())
    if window is None or day in cal.holidays:
        return set()
    at, end = datetime.combine(day, window[0]), datetime.combine(day, window[1])
    slots = set()
    while at < end:
        slots.add(at)
        at += timedelta(minutes=cal.config.interval_minutes)
    return slots


def _signed_in(
    spans: Sequence[store.StateSpan], start: datetime, end: datetime, now: datetime
) -> float:
    """Agents signed in (not offline), averaged over [start, min(end, now))."""
    end = min(end, now)
    if end <= start:
        return 0.0
    seconds = 0.0
    for span in spans:
        if span.state == "offline":
            continue
        begin = max(aware(span.started_at), start)
        finish = min(aware(span.ended_at) if span.ended_at else end, end)
        seconds += max(0.0, (finish - begin).total_seconds())
    return round(seconds / (end - start).total_seconds(), 2)


async def day_schedules(
    session: AsyncSession, cal: Calendar, day: date
) -> dict[str, tuple[Activity, ...]]:
    """Each rostered agent's activities on `day` (UTC-aware), from the week's published roster."""
    published = await store.published_roster(
        session, tenant_id=cal.tenant_id, week_start=domain.week_of(day)
    )
    if published is None:
        return {}
    return {
        row.agent_id: activities_of(row)
        for row in await store.shifts(session, roster_id=published.roster_id, day=day)
    }


def activities_of(row: store.ShiftRow) -> tuple[Activity, ...]:
    return tuple(
        Activity(datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"]), a["kind"])  # type: ignore[arg-type]
        for a in row.activities
    )


@dataclass(frozen=True)
class AgentAdherence:
    agent: store.WorkforceAgent
    figures: adherence.Adherence


async def adherence_today(
    session: AsyncSession, cal: Calendar, day: date, now: datetime
) -> list[AgentAdherence]:
    """Every agent rostered on `day`, measured up to `now`."""
    schedules = await day_schedules(session, cal, day)
    since, until = cal.day_bounds(day)
    spans_by_agent: dict[str, list[adherence.StateSpan]] = defaultdict(list)
    for span in await store.spans(session, tenant_id=cal.tenant_id, since=since, until=until):
        spans_by_agent[span.agent_id].append(
            adherence.StateSpan(
                aware(span.started_at),
                aware(span.ended_at) if span.ended_at else None,
                span.state,
            )
        )
    result = []
    for agent in await store.agents(session, tenant_id=cal.tenant_id):
        if agent.agent_id in schedules:
            figures = adherence.measure(
                schedules[agent.agent_id], spans_by_agent.get(agent.agent_id, []), now
            )
            result.append(AgentAdherence(agent, figures))
    return result
