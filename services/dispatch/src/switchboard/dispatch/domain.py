"""Dispatch's decisions, with no I/O: the job status machine, travel time, which technician gets a
job, when an emergency pre-empts someone else's job, and when a message to field staff needs
approval."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from switchboard.common.errors import Refused

PRIORITY_RANK = {"emergency": 0, "urgent": 1, "normal": 2, "low": 3}
"""Lower goes first: the order jobs are despatched and planned in, and what may pre-empt what."""

TERMINAL = frozenset({"completed", "cancelled", "failed"})
ACTIVE = frozenset({"despatched", "confirmed", "en_route", "on_site"})
"""A technician's jobs that count against them (their load, where and when they are free)."""

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"despatched", "cancelled", "failed"}),
    # Back to created: the confirmation timed out, the technician declined, an emergency
    # pre-empted it or the plan moved it; it is then despatched again.
    "despatched": frozenset({"confirmed", "created", "cancelled", "failed"}),
    "confirmed": frozenset({"en_route", "created", "cancelled", "failed"}),
    "en_route": frozenset({"on_site", "created", "cancelled", "failed"}),
    "on_site": frozenset({"completed", "failed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset(),
}


class IllegalTransition(Refused):
    """A status change the job's status machine does not allow."""


def check_transition(current: str, to: str) -> None:
    if to not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing (it is finished)"
        raise IllegalTransition(
            f"a job that is {current} cannot become {to}; it can become {allowed}"
        )


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


EARTH_RADIUS_KM = 6371.0088


def great_circle_km(a: Point, b: Point) -> float:
    """The haversine distance."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class TravelModel:
    """Travel time by road, estimated: great-circle distance x road factor / average speed."""

    road_factor: float = 1.3
    speed_kmh: float = 40.0

    def minutes(self, a: Point, b: Point) -> float:
        return great_circle_km(a, b) * self.road_factor / self.speed_kmh * 60


@dataclass(frozen=True)
class Shift:
    """Working time on some weekdays (0 = Monday), in the technician's tenant's time zone."""

    days: frozenset[int]
    start: time
    end: time

    def covers(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_start(self, local: datetime) -> datetime | None:
        """The first time at or after `local` this shift is worked (its start, or `local` itself
        when within it), looking a week ahead."""
        if self.covers(local):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            begins = datetime.combine(day, self.start, tzinfo=local.tzinfo)
            if day.weekday() in self.days and begins >= local:
                return begins
        return None


@dataclass(frozen=True)
class CurrentJob:
    job_id: str
    priority: str
    status: str


@dataclass(frozen=True)
class Technician:
    """A technician as the choice needs them: where they are now (`location`), where and when they
    will be free of the jobs they hold (`free_at`, `free_from`), and those jobs."""

    technician_id: str
    skills: frozenset[str]
    shifts: tuple[Shift, ...]
    timezone: ZoneInfo
    location: Point
    free_at: Point
    free_from: datetime
    jobs: tuple[CurrentJob, ...] = ()

    def on_shift(self, at: datetime) -> bool:
        local = at.astimezone(self.timezone)
        return any(shift.covers(local) for shift in self.shifts)

    def next_on_shift(self, at: datetime) -> datetime | None:
        """The earliest time at or after `at` they are on shift (within a week), or None."""
        local = at.astimezone(self.timezone)
        starts = [s for s in (shift.next_start(local) for shift in self.shifts) if s is not None]
        return min(starts).astimezone(at.tzinfo) if starts else None

    @property
    def load(self) -> int:
        return len(self.jobs)


@dataclass(frozen=True)
class JobNeed:
    job_id: str
    site: Point
    skills: frozenset[str]
    estimated_minutes: int
    window_start: datetime
    window_end: datetime
    priority: str = "normal"


@dataclass(frozen=True)
class Candidate:
    technician_id: str
    travel_minutes: float
    arrival: datetime
    """When they can start: on site, and not before the window opens."""
    load: int
    displaces: tuple[str, ...] = ()
    booked_ahead: bool = False
    """No one could start now: this is the earliest start of their next shift within the window."""

    @property
    def reason(self) -> str:
        why = f"{self.technician_id}: {self.travel_minutes:.0f} min away, {self.load} job(s) held"
        if self.booked_ahead:
            why += f", booked ahead: no one is on shift now, starts {self.arrival:%H:%M} UTC"
        if self.displaces:
            why += f", pre-empting {', '.join(self.displaces)}"
        return why


@dataclass
class Choice:
    """The chosen technician, or none, with why each other technician was passed over."""

    chosen: Candidate | None
    passed_over: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        if self.chosen is not None:
            return self.chosen.reason
        if not self.passed_over:
            return "no technicians"
        return "; ".join(f"{t}: {why}" for t, why in sorted(self.passed_over.items()))


def _reach(
    job: JobNeed, tech: Technician, start_from: Point, free_from: datetime, travel: TravelModel
) -> tuple[Candidate | None, str]:
    """When `tech` could start `job`: they set out when free, or at the start of their next shift
    when that is later (a job asked for at 05:30 goes to the technician who starts at 07:00), and
    the work starts within the window and within a shift."""
    minutes = travel.minutes(start_from, job.site)
    sets_out = tech.next_on_shift(free_from)
    if sets_out is None:
        return None, "not on shift when the job would start"
    arrival = sets_out + timedelta(minutes=minutes)
    if arrival > job.window_end:
        if sets_out > free_from:
            local = sets_out.astimezone(tech.timezone)
            return None, f"not on shift until {local:%a %H:%M}, after the window closes"
        return None, f"cannot arrive before the window closes ({minutes:.0f} min away)"
    start = max(arrival, job.window_start)
    if not tech.on_shift(start):
        return None, "not on shift when the job would start"
    booked_ahead = sets_out > free_from
    return Candidate(tech.technician_id, minutes, start, tech.load, booked_ahead=booked_ahead), ""


def choose(
    job: JobNeed,
    technicians: Iterable[Technician],
    *,
    now: datetime,
    travel: TravelModel,
    exclude: Sequence[str] = (),
) -> Choice:
    """The technician with the skills, on shift, who can reach the site within the window (after
    the jobs they already hold); then the least travel; then the least loaded. `exclude` names
    technicians already tried for this job (they declined or did not confirm)."""
    choice = Choice(None)
    best: Candidate | None = None
    for tech in technicians:
        if tech.technician_id in exclude:
            choice.passed_over[tech.technician_id] = "already tried for this job"
            continue
        missing = job.skills - tech.skills
        if missing:
            choice.passed_over[tech.technician_id] = f"lacks {', '.join(sorted(missing))}"
            continue
        candidate, why = _reach(job, tech, tech.free_at, max(now, tech.free_from), travel)
        if candidate is None:
            choice.passed_over[tech.technician_id] = why
        elif best is None or _rank(candidate) < _rank(best):
            best = candidate
    choice.chosen = best
    return choice


def _rank(candidate: Candidate) -> tuple[float, int, str]:
    return (round(candidate.travel_minutes, 6), candidate.load, candidate.technician_id)


def preemption(
    job: JobNeed,
    technicians: Iterable[Technician],
    *,
    now: datetime,
    travel: TravelModel,
    within_km: float,
) -> Candidate | None:
    """For an emergency no free technician can reach in time: the nearest suitable technician
    (the skills, on shift, within `within_km` of the site now) whose jobs are all of lower
    priority than urgent and none yet on site; they go from where they are, now, and every job
    they hold is displaced (to be re-despatched)."""
    if job.priority != "emergency":
        return None
    best: Candidate | None = None
    for tech in technicians:
        if not tech.jobs or job.skills - tech.skills:
            continue
        if any(j.status == "on_site" or PRIORITY_RANK[j.priority] < 2 for j in tech.jobs):
            continue
        if great_circle_km(tech.location, job.site) > within_km:
            continue
        candidate, _ = _reach(job, tech, tech.location, now, travel)
        if candidate is None:
            continue
        displacing = Candidate(
            candidate.technician_id,
            candidate.travel_minutes,
            candidate.arrival,
            candidate.load,
            displaces=tuple(j.job_id for j in tech.jobs),
        )
        if best is None or _rank(displacing) < _rank(best):
            best = displacing
    return best


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which messages to field staff need approval before they are sent."""

    kinds: frozenset[str] = frozenset({"safety"})
    broadcast_over: int = 10
    approvers: frozenset[str] = frozenset()


def approval_needed(kind: str, recipients: int, policy: ApprovalPolicy) -> str | None:
    """Why the message must be approved first, or None when it may go now."""
    if kind in policy.kinds:
        return f"{kind} messages need approval"
    if recipients > policy.broadcast_over:
        return (
            f"a message to {recipients} people (more than {policy.broadcast_over}) needs approval"
        )
    return None


def may_approve(approver: str, author: str, policy: ApprovalPolicy) -> str | None:
    """Why `approver` may not decide on `author`'s message, or None when they may."""
    if approver not in policy.approvers:
        return f"{approver!r} is not an approver"
    if approver == author:
        return "the author of a message cannot approve it"
    return None
