"""Real-time adherence: the scheduled activity against what the agent actually did.

The schedule says what an agent should be doing at each moment: working (`available` on the
desktop, taking contacts), on a break or lunch (`break`), or not rostered (`offline`). Their
`agent.state` events say what they did. Over the part of the shift that has passed:
- **adherence** = time in the scheduled state / scheduled time;
- **conformance** = time actually working / time scheduled to work (when, does not matter).
An agent is **out of adherence** from the moment their state stops matching the schedule; the team
leader is told once that has lasted longer than the tenant's grace.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.workforce.roster import Activity

EXPECTED = {"work": "available", "break": "break", "lunch": "break"}


@dataclass(frozen=True)
class StateSpan:
    start: datetime
    end: datetime | None
    """None: the agent's current state."""
    state: str


@dataclass(frozen=True)
class Adherence:
    scheduled_seconds: float
    adherent_seconds: float
    scheduled_work_seconds: float
    worked_seconds: float
    expected_now: str
    actual_now: str
    out_since: datetime | None
    """When the current stretch out of adherence began (None: in adherence now)."""

    @property
    def adherence(self) -> float | None:
        return self.adherent_seconds / self.scheduled_seconds if self.scheduled_seconds else None

    @property
    def conformance(self) -> float | None:
        if not self.scheduled_work_seconds:
            return None
        return self.worked_seconds / self.scheduled_work_seconds


def expected_at(schedule: Sequence[Activity], at: datetime) -> str:
    for activity in schedule:
        if activity.start <= at < activity.end:
            return EXPECTED[activity.kind]
    return "offline"


def actual_at(states: Sequence[StateSpan], at: datetime) -> str:
    for span in states:
        if span.start <= at and (span.end is None or at < span.end):
            return span.state
    return "offline"


def measure(schedule: Sequence[Activity], states: Sequence[StateSpan], now: datetime) -> Adherence:
    """Adherence and conformance over the scheduled time before `now`."""
    cuts = sorted(
        {
            now,
            *(a.start for a in schedule),
            *(a.end for a in schedule),
            *(s.start for s in states),
            *(s.end for s in states if s.end),
        }
    )
    scheduled = adherent = work = worked = 0.0
    for begin, end in itertools.pairwise(cuts):
        if end > now:
            break
        expected, actual = expected_at(schedule, begin), actual_at(states, begin)
        seconds = (end - begin).total_seconds()
        rostered = any(a.start <= begin < a.end for a in schedule)
        if rostered:
            scheduled += seconds
            adherent += seconds if expected == actual else 0.0
        if expected == "available":
            work += seconds
            worked += seconds if actual == "available" else 0.0
    return Adherence(
        scheduled_seconds=scheduled,
        adherent_seconds=adherent,
        scheduled_work_seconds=work,
        worked_seconds=worked,
        expected_now=expected_at(schedule, now),
        actual_now=actual_at(states, now),
        out_since=_out_since(schedule, states, now, cuts),
    )


def _out_since(
    schedule: Sequence[Activity], states: Sequence[StateSpan], now: datetime, cuts: list[datetime]
) -> datetime | None:
    """The start of the stretch, ending now, in which the state never matched the schedule."""
    if expected_at(schedule, now) == actual_at(states, now):
        return None
    since = now
    for at in reversed([c for c in cuts if c < now]):
        if expected_at(schedule, at) == actual_at(states, at):
            break
        since = at
    return since


def alert_due(
    adherence: Adherence, now: datetime, grace: timedelta, alerted_for: datetime | None
) -> bool:
    """Tell the team leader: out of adherence longer than the grace, not yet told of this stretch."""
    out = adherence.out_since
    return out is not None and now - out >= grace and alerted_for != out


def team(figures: Sequence[Adherence]) -> tuple[float | None, float | None]:
    """A team's adherence and conformance: its agents' times added up."""
    scheduled = sum(f.scheduled_seconds for f in figures)
    work = sum(f.scheduled_work_seconds for f in figures)
    return (
        sum(f.adherent_seconds for f in figures) / scheduled if scheduled else None,
        sum(f.worked_seconds for f in figures) / work if work else None,
    )
