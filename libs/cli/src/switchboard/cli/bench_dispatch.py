"""Dispatch's figures: the plan's total travel time against greedy despatch (automatic despatch's
rule, one job at a time, most urgent first) for 200 jobs and 20 technicians around Sydney, and the
time the plan took. The same seeded day every run, so figures compare across commits."""

from __future__ import annotations

import time

from switchboard.dispatch import planning
from switchboard.dispatch.samples import JOBS, TECHNICIANS, sydney_day

PLAN_SECONDS = 15.0


def bench_dispatch() -> None:
    problem = sydney_day()
    started = time.perf_counter()
    despatched = planning.greedy(problem)
    greedy_seconds = time.perf_counter() - started
    before = planning.current(despatched)
    plan = planning.optimise(despatched, time_limit=PLAN_SECONDS)
    planned = sum(len(stops) for stops in plan.routes.values())
    greedy_planned = sum(len(stops) for stops in before.routes.values())
    print(f"dispatch planning, {JOBS} jobs and {TECHNICIANS} technicians (one seeded day):")
    for label, placed, seconds, took in (
        (
            "greedy despatch",
            greedy_planned,
            before.travel_seconds,
            f"{greedy_seconds * 1000:.0f} ms",
        ),
        (
            "OR-tools plan  ",
            planned,
            plan.travel_seconds,
            f"planned in {plan.solve_seconds:.1f} s, limit {PLAN_SECONDS:.0f} s",
        ),
    ):
        print(
            f"  {label}: {placed} of {JOBS} jobs placed, {seconds / 60:,.0f} min travel, "
            f"{seconds / 60 / max(1, placed):.1f} min a job ({took})"
        )
    if before.travel_seconds:
        saved = 1 - plan.travel_seconds / before.travel_seconds
        print(
            f"  the plan travels {100 * saved:.1f} % less in all, and places "
            f"{planned - greedy_planned} more jobs"
        )
