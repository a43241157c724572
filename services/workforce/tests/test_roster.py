"""Rosters from CP-SAT: the requirement covered, and no rule broken (checked independently)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import pytest

from switchboard.workforce import roster

MONDAY = date(2026, 12, 7)
OPENING = {d: (time(8), time(18)) for d in range(5)} | {5: (time(9), time(13))}
RULES = roster.Rules(
    shift_minutes=(510, 240),
    max_weekly_minutes=38 * 60,
    max_days=5,
    min_rest_minutes=12 * 60,
    solve_seconds=3,
)


def _requirement() -> dict[str, dict[datetime, int]]:
    """Billing needs 2 agents all day, 3 at the mid-morning peak; faults 1, 2 after lunch."""
    need: dict[str, dict[datetime, int]] = {"billing": {}, "faults": {}}
    for offset in range(6):
        day = MONDAY + timedelta(days=offset)
        opens, closes = OPENING[day.weekday()]
        at = datetime.combine(day, opens)
        while at < datetime.combine(day, closes):
            need["billing"][at] = 3 if time(10) <= at.time() < time(12) else 2
            need["faults"][at] = 2 if time(13) <= at.time() < time(15) else 1
            at += timedelta(minutes=15)
    return need


def _agents() -> list[roster.RosterAgent]:
    billing = [roster.RosterAgent(f"b{i}", frozenset({"billing"})) for i in range(6)]
    faults = [roster.RosterAgent(f"f{i}", frozenset({"faults"})) for i in range(3)]
    both = [roster.RosterAgent(f"x{i}", frozenset({"billing", "faults"})) for i in range(4)]
    on_leave = roster.RosterAgent(
        "x9",
        frozenset({"billing", "faults"}),
        leave=frozenset({MONDAY, MONDAY + timedelta(days=1)}),
    )
    return [*billing, *faults, *both, on_leave]


def test_the_roster_covers_every_interval_of_every_queue_within_the_rules() -> None:
    agents, need = _agents(), _requirement()
    result = roster.build(
        week_start=MONDAY, agents=agents, requirement=need, opening=OPENING, rules=RULES
    )
    assert result.shortfall == 0
    assert roster.violations(result.shifts, agents, OPENING, RULES) == []
    for queue, slots in need.items():
        covered = roster.queue_coverage(result.shifts, agents, queue, 15)
        short = {at: n for at, n in slots.items() if covered.get(at, 0) < n}
        assert short == {}, f"{queue} short at {sorted(short)[:3]}"
    for at, (required, scheduled) in result.coverage.items():
        assert scheduled >= required, at
    assert not [s for s in result.shifts if s.agent_id == "x9" and s.day < MONDAY + timedelta(2)]
    for shift in result.shifts:  # every shift has its pauses where the rules put them
        kinds = [a.kind for a in shift.activities]
        long = (shift.end - shift.start) >= timedelta(minutes=RULES.long_shift_minutes)
        assert kinds.count("lunch") == (1 if long else 0)
        assert kinds.count("break") == (2 if long else 1)


def test_too_few_agents_leave_a_shortfall_but_break_no_rule() -> None:
    agents = _agents()[:3]
    result = roster.build(
        week_start=MONDAY, agents=agents, requirement=_requirement(), opening=OPENING, rules=RULES
    )
    assert result.shortfall > 0
    assert roster.violations(result.shifts, agents, OPENING, RULES) == []
    assert len({(s.agent_id, s.day) for s in result.shifts}) == len(result.shifts)


def test_a_solve_out_of_time_says_so_rather_than_that_no_roster_exists() -> None:
    rushed = dataclasses.replace(RULES, solve_seconds=0)
    with pytest.raises(roster.SolveTimedOut, match="no roster found within 0 s of solving"):
        roster.build(
            week_start=MONDAY,
            agents=_agents(),
            requirement=_requirement(),
            opening=OPENING,
            rules=rushed,
        )


def test_the_checker_finds_broken_rules() -> None:
    wide = {d: (time(6), time(23)) for d in range(7)}
    agent = roster.RosterAgent("a", frozenset({"billing"}), leave=frozenset({MONDAY}))
    late = roster.patterns(MONDAY, (time(14, 30), time(23)), RULES)[0]
    early = roster.patterns(MONDAY + timedelta(1), (time(6), time(14, 30)), RULES)[0]
    shifts = (roster.Shift("a", MONDAY, late), roster.Shift("a", MONDAY + timedelta(1), early))
    found = roster.violations(shifts, [agent], wide, RULES)
    assert any("leave" in v for v in found)
    assert any("rest" in v for v in found)
    outside = roster.violations(shifts, [agent], OPENING, RULES)
    assert any("opening hours" in v for v in outside)


def test_minimum_rest_holds_with_long_opening_hours() -> None:
    wide = {d: (time(6), time(23)) for d in range(7)}
    need = {"billing": {}}  # type: dict[str, dict[datetime, int]]
    for offset in range(7):
        day = MONDAY + timedelta(days=offset)
        for hour in (6, 7, 21, 22):
            need["billing"][datetime.combine(day, time(hour))] = 1
    agents = [roster.RosterAgent(f"b{i}", frozenset({"billing"})) for i in range(5)]
    # This solve ends at the optimum in about 3 s of a free core, RULES' whole budget: ten times
    # that, so a machine busy with other tests does not cut it short before a first answer.
    rules = dataclasses.replace(RULES, solve_seconds=30)
    result = roster.build(
        week_start=MONDAY, agents=agents, requirement=need, opening=wide, rules=rules
    )
    assert roster.violations(result.shifts, agents, wide, rules) == []
    assert result.shortfall == 0
