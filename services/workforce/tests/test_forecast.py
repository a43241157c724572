"""The forecast over eight weeks of generated history with a known weekly pattern."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest

from switchboard.workforce import forecast, samples

OPENING = {d: (time(8), time(18)) for d in range(5)} | {5: (time(9), time(13))}
END = date(2026, 11, 30)  # a Monday: history runs to the Sunday before


def _offered(weeks: int = 8, **kwargs: object) -> dict[datetime, float]:
    figures = samples.history(
        end=END, weeks=weeks, daily=800, opening=OPENING, interval_minutes=15, **kwargs
    )  # type: ignore[arg-type]
    return {slot: float(f.offered) for slot, f in figures.items()}


def test_the_held_back_week_is_forecast_within_the_noise() -> None:
    """Fit on seven weeks, forecast the eighth. Even the true pattern misses the noisy actuals
    (Poisson noise at ~20 contacts an interval is ~17 % WAPE); the forecast may miss by at most a
    tenth more than it, and its daily totals land within 5 % of the true pattern's."""
    history = _offered()
    accuracy = forecast.evaluate(history, holdout_days=7, interval_minutes=15)
    last = END - timedelta(days=7)
    truth: dict[datetime, float] = {}
    for offset in range(7):
        truth |= samples.expected_volume(last + timedelta(days=offset), 800, OPENING, 15)
    actual = {at: c for at, c in history.items() if at.date() >= last}
    floor = forecast.accuracy(truth, actual)
    assert accuracy.wape <= 1.1 * floor.wape < 0.2
    assert accuracy.mape is not None and floor.mape is not None
    assert accuracy.mape <= 1.1 * floor.mape
    earlier = {at: c for at, c in history.items() if at.date() < last}
    predicted = forecast.forecast(earlier, start=last, days=7, interval_minutes=15)
    for offset in range(7):
        day = last + timedelta(days=offset)
        expected = sum(c for at, c in truth.items() if at.date() == day)
        guess = sum(c for at, c in predicted.items() if at.date() == day)
        assert guess == pytest.approx(expected, rel=0.05, abs=1)


def test_the_shape_of_the_day_and_the_week_is_kept() -> None:
    predicted = forecast.forecast(_offered(), start=END, days=7, interval_minutes=15)
    per_day: dict[date, float] = defaultdict(float)
    for at, count in predicted.items():
        per_day[at.date()] += count
    monday, friday, saturday = END, END + timedelta(days=4), END + timedelta(days=5)
    assert per_day[monday] > per_day[friday] > per_day[saturday] > 0
    assert END + timedelta(days=6) not in per_day  # Sunday: closed, nothing forecast
    morning = predicted[datetime.combine(monday, time(10, 30))]
    early = predicted[datetime.combine(monday, time(8, 0))]
    assert morning > 1.5 * early
    assert all(time(8) <= at.time() < time(18) for at in predicted if at.weekday() < 5)


def test_holidays_are_taken_out_of_the_history_and_forecast_as_holidays() -> None:
    holidays = frozenset({END - timedelta(days=14), END + timedelta(days=1)})
    history = _offered(holidays=holidays)
    predicted = forecast.forecast(
        history, start=END, days=7, interval_minutes=15, holidays=holidays
    )
    holiday = sum(c for at, c in predicted.items() if at.date() == END + timedelta(days=1))
    wednesday = sum(c for at, c in predicted.items() if at.date() == END + timedelta(days=2))
    assert holiday < 0.2 * wednesday  # the history's holiday was a tenth of a normal day
    # The Monday two weeks back was a holiday: known as one, it does not drag Mondays down.
    true_monday = 800 * samples.WEEKDAY_FACTOR[0]
    monday = sum(c for at, c in predicted.items() if at.date() == END)
    assert monday == pytest.approx(true_monday, rel=0.05)
    plain = forecast.forecast(history, start=END, days=7, interval_minutes=15)
    unaware = sum(c for at, c in plain.items() if at.date() == END)
    assert abs(unaware - true_monday) > abs(monday - true_monday)


def test_short_history_falls_back_to_weekday_averages() -> None:
    predicted = forecast.forecast(_offered(weeks=1), start=END, days=2, interval_minutes=15)
    assert sum(predicted.values()) > 0


def test_accuracy_figures() -> None:
    at = datetime(2026, 12, 1, 9)
    result = forecast.accuracy(
        {at: 8.0, at + timedelta(minutes=15): 2.0}, {at: 10.0, at + timedelta(minutes=15): 0.0}
    )
    assert result.wape == pytest.approx(0.4)
    assert result.mape == pytest.approx(0.2)
