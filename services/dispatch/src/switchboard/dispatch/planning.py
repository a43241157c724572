"""Re-optimising the day: the unstarted jobs as a vehicle routing problem with time windows and
skills (OR-tools), each technician a vehicle that starts where they will be free, when they will be
free, and works until the end of their shift. Jobs pinned by a dispatcher or starting before the
freeze time keep their technician and their time; jobs under way are not in the problem at all
(their technician starts after them). Also the greedy rule (automatic despatch, one job at a time
in priority order) the plan is measured against."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from switchboard.dispatch import domain

DROP_PENALTY = 10_000_000
"""Seconds of travel the solver would rather spend than leave a job unplanned."""
FIXED_PENALTY = 100 * DROP_PENALTY
UTC = ZoneInfo("UTC")
FIXED_SLACK = 15 * 60
"""Seconds a fixed job may start either side of its planned time."""
ALL_DAY = domain.Shift(frozenset(range(7)), clock_time(0), clock_time.max)


@dataclass(frozen=True)
class PlanTech:
    technician_id: str
    skills: frozenset[str]
    start: domain.Point
    available_from: int
    """Seconds after the plan's origin."""
    shift_end: int


@dataclass(frozen=True)
class PlanJob:
    job_id: str
    site: domain.Point
    skills: frozenset[str]
    service: int
    """Seconds of work on site."""
    window: tuple[int, int]
    """When work may start, in seconds after the origin."""
    priority: str = "normal"
    technician_id: str | None = None
    """Who holds it now (None: nobody yet)."""
    start: int | None = None
    """When it is planned to start now."""
    fixed: bool = False
    """Pinned, or starting before the freeze time: it keeps its technician and its start (within
    `FIXED_SLACK`)."""


@dataclass
class Problem:
    origin: datetime
    techs: list[PlanTech]
    jobs: list[PlanJob]
    travel: domain.TravelModel

    def seconds(self, a: domain.Point, b: domain.Point) -> int:
        return round(self.travel.minutes(a, b) * 60)

    @classmethod
    def of_the_day(
        cls,
        origin: datetime,
        techs: list[PlanTech],
        jobs: list[PlanJob],
        travel: domain.TravelModel,
    ) -> Problem:
        """The day's problem over the technicians on shift: a job held by one who is not (gone
        home, or not on today) stays theirs, out of the plan, as the dispatcher left it."""
        on_shift = {t.technician_id for t in techs}
        kept = [j for j in jobs if j.technician_id is None or j.technician_id in on_shift]
        return cls(origin, techs, kept, travel)


@dataclass
class Stop:
    job_id: str
    start: int
    travel: int
    fixed: bool


@dataclass
class Plan:
    routes: dict[str, list[Stop]] = field(default_factory=dict)
    unassigned: list[str] = field(default_factory=list)
    solve_seconds: float = 0.0

    @property
    def travel_seconds(self) -> int:
        return sum(stop.travel for stops in self.routes.values() for stop in stops)

    def technician_of(self) -> dict[str, str]:
        return {s.job_id: tech for tech, stops in self.routes.items() for s in stops}


def current(problem: Problem) -> Plan:
    """The plan as it stands: each technician's held jobs in their planned order."""
    plan = Plan(routes={t.technician_id: [] for t in problem.techs})
    held = sorted(
        (j for j in problem.jobs if j.technician_id), key=lambda j: (j.start or 0, j.job_id)
    )
    where = {t.technician_id: t.start for t in problem.techs}
    for job in held:
        assert job.technician_id is not None
        travel = problem.seconds(where[job.technician_id], job.site)
        plan.routes[job.technician_id].append(Stop(job.job_id, job.start or 0, travel, job.fixed))
        where[job.technician_id] = job.site
    plan.unassigned = [j.job_id for j in problem.jobs if not j.technician_id]
    return plan


def greedy(problem: Problem) -> Problem:
    """Automatic despatch's rule applied to the unheld jobs one at a time, most urgent and earliest
    window first: the problem as greedy despatch would leave it. (Shifts are the techs' end of day,
    checked here; the problem's times are already within them.)"""
    origin = problem.origin
    free = {t.technician_id: (t.start, t.available_from) for t in problem.techs}
    jobs = {j.job_id: j for j in problem.jobs}
    order = sorted(
        (j for j in problem.jobs if not j.technician_id),
        key=lambda j: (domain.PRIORITY_RANK[j.priority], j.window[0], j.job_id),
    )
    for job in order:
        technicians = [
            domain.Technician(
                technician_id=t.technician_id,
                skills=t.skills,
                shifts=(ALL_DAY,),
                timezone=UTC,
                location=free[t.technician_id][0],
                free_at=free[t.technician_id][0],
                free_from=origin + timedelta(seconds=free[t.technician_id][1]),
            )
            for t in problem.techs
            if free[t.technician_id][1]
            + problem.seconds(free[t.technician_id][0], job.site)
            + job.service
            <= t.shift_end
        ]
        need = domain.JobNeed(
            job.job_id,
            job.site,
            job.skills,
            job.service // 60,
            origin + timedelta(seconds=job.window[0]),
            origin + timedelta(seconds=job.window[1]),
            job.priority,
        )
        choice = domain.choose(need, technicians, now=origin, travel=problem.travel)
        if choice.chosen is None:
            continue
        start = round((choice.chosen.arrival - origin).total_seconds())
        jobs[job.job_id] = replace(job, technician_id=choice.chosen.technician_id, start=start)
        free[choice.chosen.technician_id] = (job.site, start + job.service)
    return replace(problem, jobs=list(jobs.values()))


def optimise(problem: Problem, *, time_limit: float = 5.0) -> Plan:
    started = time.perf_counter()
    techs, jobs = problem.techs, problem.jobs
    if not techs or not jobs:
        return Plan(
            routes={t.technician_id: [] for t in techs}, unassigned=[j.job_id for j in jobs]
        )
    # Nodes: one per job, one start per technician, one shared end (reached from anywhere free).
    points = [j.site for j in jobs] + [t.start for t in techs]
    end = len(points)
    starts = list(range(len(jobs), len(jobs) + len(techs)))
    manager = pywrapcp.RoutingIndexManager(end + 1, len(techs), starts, [end] * len(techs))
    routing = pywrapcp.RoutingModel(manager)
    matrix = [[problem.seconds(a, b) for b in points] for a in points]

    def travel(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return 0 if end in (a, b) else matrix[a][b]

    def busy(i: int, j: int) -> int:
        a = manager.IndexToNode(i)
        return travel(i, j) + (jobs[a].service if a < len(jobs) else 0)

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(travel))
    horizon = max(
        [t.shift_end for t in techs]
        + [j.window[1] + j.service for j in jobs]
        + [(j.start or 0) + FIXED_SLACK + j.service for j in jobs]
    )
    routing.AddDimension(routing.RegisterTransitCallback(busy), horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    by_id = {t.technician_id: v for v, t in enumerate(techs)}
    for node, job in enumerate(jobs):
        index = manager.NodeToIndex(node)
        allowed = [v for v, t in enumerate(techs) if job.skills <= t.skills]
        if job.fixed and job.technician_id in by_id:
            # Its time as planned, give or take the slack travel estimates need; one already
            # past starts now (it cannot start in the past).
            allowed, start = [by_id[job.technician_id]], max(0, job.start or job.window[0])
            clock.CumulVar(index).SetRange(max(0, start - FIXED_SLACK), start + FIXED_SLACK)
        else:
            clock.CumulVar(index).SetRange(max(0, job.window[0]), max(0, job.window[1]))
        routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddDisjunction([index], FIXED_PENALTY if job.fixed else DROP_PENALTY)
    for v, tech in enumerate(techs):
        clock.CumulVar(routing.Start(v)).SetRange(
            tech.available_from, max(tech.available_from, tech.shift_end)
        )
        clock.CumulVar(routing.End(v)).SetMax(max(tech.available_from, tech.shift_end))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    plan = Plan(routes={t.technician_id: [] for t in techs})
    if solution is None:
        plan.unassigned = [j.job_id for j in jobs]
        plan.solve_seconds = time.perf_counter() - started
        return plan
    planned: set[str] = set()
    for v, tech in enumerate(techs):
        index, previous = routing.Start(v), routing.Start(v)
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            job = jobs[node]
            plan.routes[tech.technician_id].append(
                Stop(
                    job.job_id,
                    solution.Value(clock.CumulVar(index)),
                    travel(previous, index),
                    job.fixed,
                )
            )
            planned.add(job.job_id)
            previous, index = index, solution.Value(routing.NextVar(index))
    plan.unassigned = [j.job_id for j in jobs if j.job_id not in planned]
    plan.solve_seconds = time.perf_counter() - started
    return plan


def moved(before: Problem, plan: Plan) -> Sequence[str]:
    """Jobs the plan gives to a different technician than holds them now."""
    after = plan.technician_of()
    return sorted(
        j.job_id for j in before.jobs if j.job_id in after and after[j.job_id] != j.technician_id
    )
