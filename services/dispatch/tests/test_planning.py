"""The day's plan: every job placed where it can be, within its window, with a qualified
technician, for less travel than greedy despatch; fixed jobs do not move."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from switchboard.dispatch.domain import Point, TravelModel
from switchboard.dispatch.planning import (
    FIXED_SLACK,
    PlanJob,
    PlanTech,
    Problem,
    current,
    greedy,
    moved,
    optimise,
)
from switchboard.dispatch.samples import sydney_day

HOUR = 3600
WEST, EAST = Point(-33.8150, 151.0011), Point(-33.8915, 151.2767)


def _problem(jobs: list[PlanJob]) -> Problem:
    techs = [
        PlanTech("west", frozenset({"electrical", "gas"}), WEST, 0, 10 * HOUR),
        PlanTech("east", frozenset({"electrical"}), EAST, 0, 10 * HOUR),
    ]
    origin = datetime(2026, 11, 24, 7, tzinfo=UTC)
    return Problem(origin, techs, jobs, TravelModel())


def _job(
    job_id: str,
    site: Point,
    skills: str = "electrical",
    window: tuple[int, int] = (0, 8 * HOUR),
    **held: object,
) -> PlanJob:
    return PlanJob(job_id, site, frozenset(skills.split()), HOUR, window, **held)  # type: ignore[arg-type]


def test_the_plan_places_every_job_within_its_window_with_a_qualified_technician() -> None:
    jobs = [
        _job("gas-east", EAST, "gas"),
        _job("east-1", EAST, window=(2 * HOUR, 4 * HOUR)),
        _job("west-1", WEST),
        _job("west-2", WEST, window=(0, HOUR)),
    ]
    problem = _problem(jobs)
    plan = optimise(problem, time_limit=1)
    assert plan.unassigned == []
    assert plan.technician_of()["gas-east"] == "west", "only west has the gas skill"
    windows = {j.job_id: j.window for j in jobs}
    for stops in plan.routes.values():
        for stop in stops:
            assert windows[stop.job_id][0] <= stop.start <= windows[stop.job_id][1]
        for before, after in itertools.pairwise(stops):
            assert after.start >= before.start + HOUR + after.travel, "work, then travel"
    assert plan.travel_seconds == sum(s.travel for stops in plan.routes.values() for s in stops)


def test_a_fixed_job_keeps_its_technician_and_start() -> None:
    pinned = _job("pinned", EAST, technician_id="west", start=5 * HOUR, fixed=True)
    plan = optimise(_problem([pinned, _job("other", EAST)]), time_limit=1)
    [stop] = [s for s in plan.routes["west"] if s.job_id == "pinned"]
    assert abs(stop.start - 5 * HOUR) <= FIXED_SLACK and stop.fixed
    assert plan.technician_of()["other"] == "east"


def test_the_current_plan_and_what_a_new_plan_moves() -> None:
    # Both jobs sit with the technician at the far end of town.
    held = [
        _job("a", EAST, technician_id="west", start=HOUR),
        _job("b", WEST, technician_id="west", start=3 * HOUR),
    ]
    problem = _problem(held)
    before = current(problem)
    across = problem.seconds(WEST, EAST)
    assert before.travel_seconds == across + across  # west -> east -> west
    after = optimise(problem, time_limit=1)
    assert after.travel_seconds == 0
    assert moved(problem, after) == ["a"]


def test_the_plan_beats_greedy_despatch_on_a_busy_day() -> None:
    day = sydney_day(jobs=40, technicians=5)
    despatched = greedy(day)
    before = current(despatched)
    plan = optimise(despatched, time_limit=3)
    placed = sum(len(stops) for stops in plan.routes.values())
    assert placed >= len(before.technician_of())
    assert plan.travel_seconds / placed < before.travel_seconds / len(before.technician_of())


def test_a_fixed_job_whose_time_has_passed_starts_now() -> None:
    late = _job("late", WEST, technician_id="west", start=-600, fixed=True, window=(0, HOUR))
    plan = optimise(_problem([late]), time_limit=1)
    [(job_id, start)] = [(s.job_id, s.start) for s in plan.routes["west"]]
    assert job_id == "late" and 0 <= start <= FIXED_SLACK


def test_a_job_held_by_a_technician_off_shift_stays_theirs_out_of_the_plan() -> None:
    """After hours the held job's technician is not in the day's problem: the plan leaves the job
    as the dispatcher left it (before, the plan of such a day failed with a KeyError)."""
    on_shift = _problem([])
    held = _job("j1", EAST, technician_id="gone-home", start=HOUR)
    free = _job("j2", WEST)
    problem = Problem.of_the_day(on_shift.origin, on_shift.techs, [held, free], TravelModel())
    assert [j.job_id for j in problem.jobs] == ["j2"]
    assert current(problem).unassigned == ["j2"]
    assert "j2" in optimise(problem, time_limit=1).technician_of()
