"""Rosters: a week of shifts, with breaks and lunches, that covers the staffing requirement within
the rules, chosen by OR-tools' CP-SAT solver.

Each agent works at most one shift a day, drawn from the rule's shift patterns (lengths, starting
every `start_step_minutes` inside the tenant's opening hours), with a break two hours in, a lunch
near the middle of a long shift and a break two hours after it (a short shift has one break near
its middle); pauses come in three placements half an hour apart, so they can be staggered. The
solver picks, per agent and day, a pattern or a day off so that:
- no agent works on leave, more than `max_days` days, more than `max_weekly_minutes` paid minutes,
  or with less than `min_rest_minutes` between one shift's end and the next one's start;
- each queue's requirement is met by agents with the queue's skills, and the tenant's total by
  distinct agents (a multi-skilled agent counts once);
- the shortfall (agent-intervals missing) is as small as possible first; then, holding it, the
  hours rostered (within 2 % of the fewest possible, or the best found in `solve_seconds`).
`violations` checks any roster against the same rules, independently of the solver.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from switchboard.common.errors import TransientError

if TYPE_CHECKING:  # OR-tools takes seconds to import: only rostering loads it
    from ortools.sat.python import cp_model


class SolveTimedOut(TransientError):
    """The solver's time ran out before a first roster: not a verdict on the rules (the shortfall
    lets every requirement go unmet, so a roster always exists)."""


ActivityKind = Literal["work", "break", "lunch"]
Requirement = Mapping[str, Mapping[datetime, int]]
"""Agents to schedule, per queue, per interval (local start)."""


@dataclass(frozen=True)
class Rules:
    interval_minutes: int = 15
    shift_minutes: tuple[int, ...] = (510, 240)
    """Shift lengths on site, lunch included (8.5 h and 4 h)."""
    start_step_minutes: int = 30
    max_weekly_minutes: int = 38 * 60
    """Paid minutes (shift minus lunch)."""
    max_days: int = 5
    min_rest_minutes: int = 12 * 60
    break_minutes: int = 15
    lunch_minutes: int = 30
    long_shift_minutes: int = 360
    """Shifts at least this long get a lunch and a second break."""
    solve_seconds: float = 20.0


@dataclass(frozen=True)
class RosterAgent:
    agent_id: str
    queues: frozenset[str]
    """The queues whose skills the agent has."""
    leave: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Activity:
    start: datetime
    end: datetime
    kind: ActivityKind


@dataclass(frozen=True)
class Shift:
    agent_id: str
    day: date
    activities: tuple[Activity, ...]

    @property
    def start(self) -> datetime:
        return self.activities[0].start

    @property
    def end(self) -> datetime:
        return self.activities[-1].end

    @property
    def paid_minutes(self) -> int:
        return sum(_minutes(a.end - a.start) for a in self.activities if a.kind != "lunch")

    def working_at(self, at: datetime) -> bool:
        return any(a.kind == "work" and a.start <= at < a.end for a in self.activities)


@dataclass(frozen=True)
class Roster:
    shifts: tuple[Shift, ...]
    shortfall: int
    """Agent-intervals the requirement wanted and nobody could cover."""
    optimal: bool
    coverage: dict[datetime, tuple[int, int]] = field(default_factory=dict)
    """Per interval: (required, scheduled working) for the tenant as a whole."""


def patterns(day: date, opening: tuple[time, time], rules: Rules) -> list[tuple[Activity, ...]]:
    """Every shift the rules allow on `day` inside the opening hours."""
    open_at, close_at = (datetime.combine(day, t) for t in opening)
    step = timedelta(minutes=rules.start_step_minutes)
    result = []
    for length in rules.shift_minutes:
        start = open_at
        while start + timedelta(minutes=length) <= close_at:
            for pause_shift in (-30, 0, 30):
                result.append(_activities(start, length, pause_shift, rules))
            start += step
    return result


def _activities(
    start: datetime, length: int, pause_shift: int, rules: Rules
) -> tuple[Activity, ...]:
    end = start + timedelta(minutes=length)
    pauses: list[tuple[datetime, int, ActivityKind]] = []
    if length >= rules.long_shift_minutes:
        lunch = start + timedelta(minutes=length // 2 - rules.lunch_minutes // 2 + pause_shift)
        lunch = _snap(lunch, rules.interval_minutes)
        pauses = [
            (start + timedelta(hours=2), rules.break_minutes, "break"),
            (lunch, rules.lunch_minutes, "lunch"),
            (lunch + timedelta(minutes=rules.lunch_minutes + 120), rules.break_minutes, "break"),
        ]
    else:
        middle = _snap(start + timedelta(minutes=length // 2 + pause_shift), rules.interval_minutes)
        pauses = [(middle, rules.break_minutes, "break")]
    activities, at = [], start
    for begin, minutes, kind in pauses:
        if begin + timedelta(minutes=minutes) > end - timedelta(minutes=rules.interval_minutes):
            continue
        activities.append(Activity(at, begin, "work"))
        at = begin + timedelta(minutes=minutes)
        activities.append(Activity(begin, at, kind))
    activities.append(Activity(at, end, "work"))
    return tuple(activities)


def build(
    *,
    week_start: date,
    agents: list[RosterAgent],
    requirement: Requirement,
    opening: Mapping[int, tuple[time, time]],
    rules: Rules,
) -> Roster:
    """The week's roster from `week_start` (opening hours per weekday, 0 = Monday)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    days = [week_start + timedelta(days=i) for i in range(7)]
    choices: dict[tuple[str, date], list[tuple[cp_model.IntVar, tuple[Activity, ...]]]] = {}
    for agent in agents:
        for day in days:
            if day in agent.leave or day.weekday() not in opening:
                continue
            shapes = patterns(day, opening[day.weekday()], rules)
            choices[agent.agent_id, day] = [
                (model.new_bool_var(f"{agent.agent_id}/{day}/{i}"), shape)
                for i, shape in enumerate(shapes)
            ]
    for agent in agents:
        mine = [(day, choices.get((agent.agent_id, day), [])) for day in days]
        for _day, options in mine:
            model.add_at_most_one(var for var, _ in options)
        every = [(var, shift) for _, options in mine for var, shift in options]
        model.add(sum(every_var for every_var, _ in every) <= rules.max_days)
        model.add(sum(var * _paid(shift) for var, shift in every) <= rules.max_weekly_minutes)
        _rest(model, mine, rules)
    working: dict[datetime, list[tuple[RosterAgent, cp_model.IntVar]]] = defaultdict(list)
    by_id = {agent.agent_id: agent for agent in agents}
    for (agent_id, _day), options in choices.items():
        for var, shift in options:
            for slot in _work_slots(shift, rules.interval_minutes):
                working[slot].append((by_id[agent_id], var))
    shortages: list[cp_model.IntVar] = []
    totals: dict[datetime, int] = defaultdict(int)
    for queue, slots in requirement.items():
        for slot, needed in slots.items():
            if needed <= 0:
                continue
            totals[slot] += needed
            short = model.new_int_var(0, needed, f"short/{queue}/{slot}")
            eligible = [var for agent, var in working.get(slot, []) if queue in agent.queues]
            model.add(sum(eligible) + short >= needed)
            shortages.append(short)
    for slot, needed in totals.items():
        short = model.new_int_var(0, needed, f"short/{slot}")
        model.add(sum(var for _, var in working.get(slot, [])) + short >= needed)
        shortages.append(short)
    chosen = [var for options in choices.values() for var, _ in options]
    rostered = [
        var * len(_work_slots(shift, rules.interval_minutes))
        for options in choices.values()
        for var, shift in options
    ]
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = rules.solve_seconds
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 7
    # Presolve spends seconds on the agents' symmetry and gains nothing here (measured: the first
    # phase takes 3.5 s with it, 0.2 s without, and the second ends no worse).
    solver.parameters.cp_model_presolve = False
    # First the least shortfall (its bound is tight, so this is quick), then, holding it, the
    # fewest hours, starting from the first answer.
    model.minimize(sum(shortages))
    status = solver.solve(model)
    if status == cp_model.UNKNOWN:
        raise SolveTimedOut(
            f"no roster found within {rules.solve_seconds:g} s of solving (the machine may be"
            " busy): ask again, or give the solver longer (SWITCHBOARD_WORKFORCE_SOLVE_SECONDS)"
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError(f"no roster satisfies the rules ({solver.status_name(status)})")
    least = round(solver.objective_value)
    for choice in chosen:
        model.add_hint(choice, solver.value(choice))
    model.add(sum(shortages) <= least)
    model.minimize(sum(rostered))
    solver.parameters.relative_gap_limit = 0.02
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError(f"no roster satisfies the rules ({solver.status_name(status)})")
    shifts = tuple(
        Shift(agent_id, day, activities)
        for (agent_id, day), options in sorted(choices.items())
        for var, activities in options
        if solver.value(var)
    )
    required = {slot: needed for slot, needed in totals.items()}
    return Roster(
        shifts=shifts,
        shortfall=sum(solver.value(s) for s in shortages),
        optimal=status == cp_model.OPTIMAL,
        coverage=coverage(shifts, required, rules.interval_minutes),
    )


def coverage(
    shifts: tuple[Shift, ...], required: Mapping[datetime, int], interval_minutes: int
) -> dict[datetime, tuple[int, int]]:
    """Per interval: (required, agents scheduled to work in it)."""
    scheduled: dict[datetime, int] = defaultdict(int)
    for shift in shifts:
        for slot in _work_slots(shift.activities, interval_minutes):
            scheduled[slot] += 1
    return {
        slot: (required.get(slot, 0), scheduled.get(slot, 0))
        for slot in sorted(set(required) | set(scheduled))
    }


def queue_coverage(
    shifts: tuple[Shift, ...], agents: list[RosterAgent], queue: str, interval_minutes: int
) -> dict[datetime, int]:
    """Per interval: agents with the queue's skills scheduled to work in it."""
    skilled = {a.agent_id for a in agents if queue in a.queues}
    scheduled: dict[datetime, int] = defaultdict(int)
    for shift in shifts:
        if shift.agent_id in skilled:
            for slot in _work_slots(shift.activities, interval_minutes):
                scheduled[slot] += 1
    return dict(scheduled)


def violations(
    shifts: tuple[Shift, ...],
    agents: list[RosterAgent],
    opening: Mapping[int, tuple[time, time]],
    rules: Rules,
) -> list[str]:
    """Every rule a roster breaks, in words (empty: it keeps them all)."""
    found = []
    by_agent: dict[str, list[Shift]] = defaultdict(list)
    for shift in shifts:
        by_agent[shift.agent_id].append(shift)
    known = {a.agent_id: a for a in agents}
    for agent_id, mine in by_agent.items():
        mine.sort(key=lambda s: s.start)
        agent = known.get(agent_id)
        if agent is None:
            found.append(f"{agent_id}: not an agent of this roster")
            continue
        days = [s.day for s in mine]
        if len(days) != len(set(days)):
            found.append(f"{agent_id}: more than one shift on a day")
        if len(mine) > rules.max_days:
            found.append(f"{agent_id}: {len(mine)} days, over {rules.max_days}")
        paid = sum(s.paid_minutes for s in mine)
        if paid > rules.max_weekly_minutes:
            found.append(f"{agent_id}: {paid} paid minutes, over {rules.max_weekly_minutes}")
        for shift in mine:
            if shift.day in agent.leave:
                found.append(f"{agent_id}: a shift on {shift.day}, a day of leave")
            window = opening.get(shift.day.weekday())
            if window is None or not (
                datetime.combine(shift.day, window[0]) <= shift.start
                and shift.end <= datetime.combine(shift.day, window[1])
            ):
                found.append(f"{agent_id}: the shift on {shift.day} is outside opening hours")
            if _minutes(shift.end - shift.start) not in rules.shift_minutes:
                found.append(f"{agent_id}: the shift on {shift.day} is not an allowed length")
        for before, after in itertools.pairwise(mine):
            rest = _minutes(after.start - before.end)
            if rest < rules.min_rest_minutes:
                found.append(f"{agent_id}: {rest} minutes' rest before {after.day}")
    return found


def _rest(
    model: cp_model.CpModel,
    mine: list[tuple[date, list[tuple[cp_model.IntVar, tuple[Activity, ...]]]]],
    rules: Rules,
) -> None:
    """No two shifts on consecutive days closer than the minimum rest."""
    gap = timedelta(minutes=rules.min_rest_minutes)
    for (_, today), (_, tomorrow) in itertools.pairwise(mine):
        for var, shift in today:
            for next_var, next_shift in tomorrow:
                if next_shift[0].start - shift[-1].end < gap:
                    model.add_bool_or([var.Not(), next_var.Not()])


def _paid(activities: tuple[Activity, ...]) -> int:
    return sum(_minutes(a.end - a.start) for a in activities if a.kind != "lunch")


def _work_slots(activities: tuple[Activity, ...], interval_minutes: int) -> list[datetime]:
    step = timedelta(minutes=interval_minutes)
    slots = []
    for activity in activities:
        if activity.kind == "work":
            at = activity.start
            while at < activity.end:
                slots.append(at)
                at += step
    return slots


def _snap(at: datetime, interval_minutes: int) -> datetime:
    return at - timedelta(minutes=at.minute % interval_minutes, seconds=at.second)


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
