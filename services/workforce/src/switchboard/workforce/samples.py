"""Generated contact history with a known weekly pattern: what the demo centre is seeded with (so
its forecast, staffing and roster are not empty) and what the tests measure the forecast against.

Volumes follow a weekday profile and a two-peak day (mid-morning and early afternoon) inside the
opening hours, with Poisson noise from a fixed seed, so the same call gives the same history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import numpy as np

from switchboard.workforce.domain import Figures

WEEKDAY_FACTOR = (1.25, 1.05, 1.0, 0.95, 0.9, 0.45, 0.0)
"""Monday is the busiest day; Sunday is closed."""


def day_shape(opening: tuple[time, time], interval_minutes: int) -> dict[time, float]:
    """Each interval's share of a day: peaks at 10:30 and 14:00 over a base load."""
    start = datetime.combine(date.min, opening[0])
    end = datetime.combine(date.min, opening[1])
    weights: dict[time, float] = {}
    at = start
    while at < end:
        hour = at.hour + at.minute / 60
        weights[at.time()] = (
            0.4 + math.exp(-((hour - 10.5) ** 2) / 2) + 0.8 * math.exp(-((hour - 14) ** 2) / 2.5)
        )
        at += timedelta(minutes=interval_minutes)
    total = sum(weights.values())
    return {slot: weight / total for slot, weight in weights.items()}


def expected_volume(
    day: date, daily: float, opening: Mapping[int, tuple[time, time]], interval_minutes: int
) -> dict[datetime, float]:
    """The pattern's expected contacts per interval of `day` (no noise)."""
    window = opening.get(day.weekday())
    if window is None:
        return {}
    volume = daily * WEEKDAY_FACTOR[day.weekday()]
    return {
        datetime.combine(day, slot): volume * share
        for slot, share in day_shape(window, interval_minutes).items()
    }


def history(
    *,
    end: date,
    weeks: int,
    daily: float,
    opening: Mapping[int, tuple[time, time]],
    interval_minutes: int,
    handle_seconds: float = 280.0,
    abandon_share: float = 0.05,
    holidays: frozenset[date] = frozenset(),
    seed: int = 20261203,
) -> dict[datetime, Figures]:
    """`weeks` weeks of one queue and channel's figures, ending the day before `end`."""
    rng = np.random.default_rng(seed)
    result: dict[datetime, Figures] = {}
    day = end - timedelta(days=7 * weeks)
    while day < end:
        factor = 0.1 if day in holidays else 1.0
        for slot, mean in expected_volume(day, daily * factor, opening, interval_minutes).items():
            offered = int(rng.poisson(mean))
            abandoned = int(rng.binomial(offered, abandon_share)) if offered else 0
            handled = offered - abandoned
            waits = rng.exponential(25.0, size=offered) if offered else np.array([])
            result[slot] = Figures(
                offered=offered,
                handled=handled,
                abandoned=abandoned,
                answered_in_target=int((waits[:handled] <= 20).sum()),
                wait_seconds=float(waits.sum()),
                wrapped=handled,
                handle_seconds=float(rng.normal(handle_seconds, 30.0, size=handled).clip(30).sum()),
            )
        day += timedelta(days=1)
    return result
