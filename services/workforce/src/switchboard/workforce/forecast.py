"""Forecasting contacts per interval: a day's volume, then its shape through the day.

The way WFM tools do it, in two steps, each from the history of the same queue and channel:
1. **Daily volume**: Holt-Winters exponential smoothing (statsmodels) over the daily totals with a
   weekly season, so Mondays follow Mondays. The tenant's holidays are taken out of the history
   (filled with the same weekday's average) and forecast as that history's holiday ratio (zero
   when the history has no holiday).
2. **Intra-day shape**: each weekday's share of its volume per interval, from the recent weeks.

`evaluate` holds back the last week(s), forecasts them from the rest and reports the error:
WAPE (Σ|forecast - actual| / Σ actual) and MAPE over the intervals that had contacts.
Times here are the tenant's local wall-clock times (naive datetimes); the store converts.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

Series = Mapping[datetime, float]
"""Contacts per interval, keyed by the interval's local start."""

SHAPE_WEEKS = 8


@dataclass(frozen=True)
class Accuracy:
    wape: float
    mape: float | None
    """None when no held-back interval had contacts."""
    intervals: int


def forecast(
    history: Series,
    *,
    start: date,
    days: int,
    interval_minutes: int,
    holidays: frozenset[date] = frozenset(),
) -> dict[datetime, float]:
    """Contacts per interval for `days` days from `start` (local), from `history` (which ends
    before `start`; the days between are forecast too and dropped)."""
    if not history:
        return {}
    first = min(history).date()
    last = start - timedelta(days=1)
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    totals: dict[date, float] = defaultdict(float)
    for at, count in history.items():
        totals[at.date()] += count
    daily = _fill_holidays([totals[d] for d in dates], dates, holidays)
    ahead = (start - last).days - 1 + days
    predicted = _smooth(daily, ahead)[-days:]
    ratio = _holiday_ratio(totals, dates, daily, holidays)
    shape = _shape(history, dates, holidays, interval_minutes)
    result: dict[datetime, float] = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        volume = max(0.0, predicted[offset]) * (ratio if day in holidays else 1.0)
        for slot, share in shape.get(day.weekday(), {}).items():
            result[datetime.combine(day, slot)] = volume * share
    return result


def evaluate(
    history: Series,
    *,
    holdout_days: int,
    interval_minutes: int,
    holidays: frozenset[date] = frozenset(),
) -> Accuracy:
    """The forecast's error on the last `holdout_days` days of `history`, forecast from the rest."""
    last = max(history).date()
    start = last - timedelta(days=holdout_days - 1)
    cut = datetime.combine(start, time())
    earlier = {at: count for at, count in history.items() if at < cut}
    predicted = forecast(
        earlier,
        start=start,
        days=holdout_days,
        interval_minutes=interval_minutes,
        holidays=holidays,
    )
    actual = {at: count for at, count in history.items() if at >= cut}
    return accuracy(predicted, actual)


def accuracy(predicted: Series, actual: Series) -> Accuracy:
    keys = set(predicted) | set(actual)
    errors = [abs(predicted.get(k, 0.0) - actual.get(k, 0.0)) for k in keys]
    total = sum(actual.values())
    wape = sum(errors) / total if total else 0.0
    relative = [abs(predicted.get(k, 0.0) - a) / a for k, a in actual.items() if a > 0]
    mape = sum(relative) / len(relative) if relative else None
    return Accuracy(wape=wape, mape=mape, intervals=len(keys))


def _fill_holidays(daily: list[float], dates: list[date], holidays: frozenset[date]) -> np.ndarray:
    """Holidays replaced by the average of the same weekday's ordinary days."""
    values = np.array(daily, dtype=float)
    for i, day in enumerate(dates):
        if day in holidays:
            same = [
                values[j]
                for j, d in enumerate(dates)
                if d.weekday() == day.weekday() and d not in holidays
            ]
            values[i] = float(np.mean(same)) if same else 0.0
    return values


def _smooth(daily: np.ndarray, ahead: int) -> np.ndarray:
    """Holt-Winters with an additive weekly season (additive: closed days are zeros); under two
    weeks of history, each weekday's average instead."""
    if len(daily) < 14 or not daily.any():
        means = [float(np.mean(daily[i::7])) if len(daily[i::7]) else 0.0 for i in range(7)]
        return np.array([means[(len(daily) + h) % 7] for h in range(ahead)])
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short, regular series
        model = ExponentialSmoothing(
            daily,
            trend=None,
            seasonal="add",
            seasonal_periods=7,
            initialization_method="estimated",
        ).fit()
    return np.asarray(model.forecast(ahead))


def _holiday_ratio(
    totals: Mapping[date, float], dates: list[date], expected: np.ndarray, holidays: frozenset[date]
) -> float:
    """How busy the history's holidays were against an ordinary day of the same weekday."""
    pairs = [(totals.get(d, 0.0), expected[i]) for i, d in enumerate(dates) if d in holidays]
    seen = sum(e for _, e in pairs)
    return sum(a for a, _ in pairs) / seen if seen else 0.0


def _shape(
    history: Series, dates: list[date], holidays: frozenset[date], interval_minutes: int
) -> dict[int, dict[time, float]]:
    """Per weekday, each interval's share of the day, over the last `SHAPE_WEEKS` weeks."""
    recent = {d for d in dates[-7 * SHAPE_WEEKS :] if d not in holidays}
    by_slot: dict[int, dict[time, float]] = defaultdict(lambda: defaultdict(float))
    for at, count in history.items():
        if at.date() in recent:
            slot = at.replace(
                minute=at.minute - at.minute % interval_minutes, second=0, microsecond=0
            ).time()
            by_slot[at.weekday()][slot] += count
    shape: dict[int, dict[time, float]] = {}
    for weekday, slots in by_slot.items():
        total = sum(slots.values())
        if total:
            shape[weekday] = {slot: count / total for slot, count in sorted(slots.items())}
    return shape
