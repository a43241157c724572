"""Workforce decisions, pure: which interval an event falls in, what a queue's history says about
handle time and patience, and how many agents each interval needs.

The formulas live in `erlang`, the forecast in `forecast`, rosters in `roster`, adherence in
`adherence`; this module joins them the way the service uses them. No I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from switchboard.common.promises_config import HoursConfig
from switchboard.common.teams_config import WorkforceConfig
from switchboard.workforce import erlang, roster

VOICE = "phone"
DEFAULT_HANDLE_SECONDS = 300.0
MIN_ABANDONS_FOR_PATIENCE = 10
"""Fewer observed abandons than this and the patience estimate is noise: Erlang C is used."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local_slot(at: datetime, zone: ZoneInfo, interval_minutes: int) -> datetime:
    """The local (naive) start of the interval `at` (an aware time) falls in."""
    local = at.astimezone(zone).replace(tzinfo=None)
    return local.replace(
        minute=local.minute - local.minute % interval_minutes, second=0, microsecond=0
    )


def utc_of(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Figures:
    """One queue and channel's contacts in one interval (the history's unit)."""

    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    answered_in_target: int = 0
    wait_seconds: float = 0.0
    """Time waited by those answered and those who abandoned."""
    wrapped: int = 0
    handle_seconds: float = 0.0
    """Assignment to wrap-up, over the `wrapped` contacts."""


@dataclass(frozen=True)
class ContactFacts:
    """What is known of one contact so far. Its events come on several topics, so in no set
    order: each fact keeps the earliest time told, and the figures follow from the facts."""

    queue_id: str | None = None
    channel: str | None = None
    queued_at: datetime | None = None
    """Its first queueing (a transfer's re-queue is later, so never replaces it)."""
    answered_at: datetime | None = None
    """The first answer: an agent's acceptance or the PBX's."""
    waited_seconds: float | None = None
    """The wait routing measured for that answer (None: from the queueing to the answer)."""
    abandoned_at: datetime | None = None
    wrapped_at: datetime | None = None


def _earliest(told: datetime | None, new: datetime) -> bool:
    return told is None or new < told


def queued(facts: ContactFacts, *, queue_id: str, channel: str, at: datetime) -> ContactFacts:
    if not _earliest(facts.queued_at, at):
        return facts
    return replace(facts, queue_id=queue_id, channel=channel, queued_at=at)


def answered(facts: ContactFacts, *, at: datetime, waited: float | None) -> ContactFacts:
    if not _earliest(facts.answered_at, at):
        return facts
    return replace(facts, answered_at=at, waited_seconds=waited)


def abandoned(facts: ContactFacts, *, at: datetime) -> ContactFacts:
    return replace(facts, abandoned_at=at) if _earliest(facts.abandoned_at, at) else facts


def wrapped(facts: ContactFacts, *, at: datetime) -> ContactFacts:
    return replace(facts, wrapped_at=at) if _earliest(facts.wrapped_at, at) else facts


def contact_figures(facts: ContactFacts, *, target_seconds: float | None) -> Figures:
    """What one contact adds to the interval it first queued in. Nothing until its queueing is
    known; answered if the answer came no later than any hang-up (a hang-up after the answer is
    no abandon); handle time once both the answer and the wrap-up are known."""
    if facts.queued_at is None:
        return Figures()
    answer, hang_up = facts.answered_at, facts.abandoned_at
    if answer is not None and (hang_up is None or answer <= hang_up):
        waited = facts.waited_seconds
        if waited is None:
            waited = (answer - facts.queued_at).total_seconds()
        waited = max(0.0, waited)
        wrap = facts.wrapped_at
        return Figures(
            offered=1,
            handled=1,
            answered_in_target=int(target_seconds is not None and waited <= target_seconds),
            wait_seconds=waited,
            wrapped=int(wrap is not None),
            handle_seconds=0.0 if wrap is None else max(0.0, (wrap - answer).total_seconds()),
        )
    if hang_up is not None:
        waited = max(0.0, (hang_up - facts.queued_at).total_seconds())
        return Figures(offered=1, abandoned=1, wait_seconds=waited)
    return Figures(offered=1)


def handle_seconds(history: Iterable[Figures], default: float = DEFAULT_HANDLE_SECONDS) -> float:
    """Average handle time over the history (the default when nothing was wrapped up)."""
    wrapped = handled = 0.0
    for figures in history:
        wrapped += figures.wrapped
        handled += figures.handle_seconds
    return handled / wrapped if wrapped else default


def patience_seconds(history: Iterable[Figures]) -> float | None:
    """Callers' mean patience, the exponential model's estimate: total time waited (by the
    answered and the abandoned) per abandon; None with too few abandons to say."""
    waited = abandons = 0.0
    for figures in history:
        waited += figures.wait_seconds
        abandons += figures.abandoned
    return waited / abandons if abandons >= MIN_ABANDONS_FOR_PATIENCE and waited else None


@dataclass(frozen=True)
class QueueTarget:
    queue_id: str
    target: erlang.Target
    skills: frozenset[str]


@dataclass(frozen=True)
class Need:
    """One queue's staffing in one interval."""

    contacts: float
    required: int
    to_schedule: int
    method: str
    """How `required` was worked out: erlang_c, erlang_a, workload, or a `+` of them."""
    service_level: float | None
    """What `required` agents give the voice part (None: no voice contacts)."""


def staffing(
    forecasts: Mapping[tuple[str, str], Mapping[datetime, float]],
    *,
    handle: Mapping[tuple[str, str], float],
    patience: Mapping[str, float | None],
    targets: Mapping[str, QueueTarget],
    config: WorkforceConfig,
) -> dict[str, dict[datetime, Need]]:
    """Per queue and interval: the agents needed for its voice contacts (Erlang A when the callers'
    patience is known, else Erlang C) plus its written contacts (workload ÷ concurrency, a
    fraction until the queue's total is rounded up)."""
    seconds = config.interval_minutes * 60
    occupancy = config.max_occupancy_percent / 100
    shrinkage = config.shrinkage_percent / 100
    parts: dict[str, dict[datetime, list[tuple[float, float, str, float | None]]]] = {}
    part: tuple[float, float, str, float | None]
    for (queue_id, channel), series in forecasts.items():
        queue = targets.get(queue_id)
        if queue is None:
            continue
        aht = handle.get((queue_id, channel), DEFAULT_HANDLE_SECONDS)
        for slot, contacts in series.items():
            rate = contacts / seconds
            if channel == VOICE:
                known = patience.get(queue_id)
                target = erlang.Target(queue.target.service_level, queue.target.seconds, occupancy)
                figures = erlang.agents_for_calls(rate=rate, aht=aht, target=target, patience=known)
                method = "erlang_a" if known else "erlang_c"
                part = (contacts, figures.agents, method, figures.service_level)
            else:
                agents = erlang.agents_for_written(
                    rate=rate,
                    aht=aht,
                    concurrency=config.concurrency.get(channel, 1),  # type: ignore[call-overload]
                    max_occupancy=occupancy,
                )
                part = (contacts, agents, "workload", None)
            parts.setdefault(queue_id, {}).setdefault(slot, []).append(part)
    result: dict[str, dict[datetime, Need]] = {}
    for queue_id, slots in parts.items():
        for slot, pieces in slots.items():
            required = math.ceil(sum(p[1] for p in pieces) - 1e-9)
            levels = [p[3] for p in pieces if p[3] is not None]
            result.setdefault(queue_id, {})[slot] = Need(
                contacts=sum(p[0] for p in pieces),
                required=required,
                to_schedule=erlang.with_shrinkage(required, shrinkage),
                method="+".join(sorted({p[2] for p in pieces if p[1]})) or "none",
                service_level=min(levels) if levels else None,
            )
    return result


def opening_hours(hours: list[HoursConfig]) -> dict[int, tuple[time, time]]:
    """Per weekday (0 = Monday): the earliest opening and latest closing of the tenant's hours."""
    result: dict[int, tuple[time, time]] = {}
    for block in hours:
        opens, closes = time.fromisoformat(block.open), time.fromisoformat(block.close)
        for day in block.days:
            weekday = WEEKDAYS.index(day)
            earlier = result.get(weekday)
            if earlier is not None:
                opens, closes = min(opens, earlier[0]), max(closes, earlier[1])
            result[weekday] = (opens, closes)
    return result


def rules_of(config: WorkforceConfig) -> roster.Rules:
    return roster.Rules(
        interval_minutes=config.interval_minutes,
        shift_minutes=tuple(config.shift_minutes),
        start_step_minutes=config.start_step_minutes,
        max_weekly_minutes=int(config.max_weekly_hours * 60),
        max_days=config.max_days,
        min_rest_minutes=int(config.min_rest_hours * 60),
    )


def leave_days(config: WorkforceConfig) -> dict[str, dict[date, str]]:
    """Per agent, each day of leave and its reason."""
    days: dict[str, dict[date, str]] = {}
    for leave in config.leave:
        day = leave.start
        while day <= leave.end:
            days.setdefault(leave.agent, {})[day] = leave.reason
            day += timedelta(days=1)
    return days


def eligible_queues(skills: Mapping[str, int], targets: Iterable[QueueTarget]) -> frozenset[str]:
    """The queues whose every skill the agent has."""
    return frozenset(t.queue_id for t in targets if t.skills <= set(skills))


def week_of(day: date) -> date:
    """The Monday starting `day`'s week."""
    return day - timedelta(days=day.weekday())
