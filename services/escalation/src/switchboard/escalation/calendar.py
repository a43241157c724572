"""Due times in business hours or calendar time: the arithmetic every promise is measured in.

A tenant's business calendar is its time zone, the opening periods of each weekday (several a day,
e.g. 08:00-12:00 and 13:00-17:00) and its public holidays. Opening periods are local wall-clock
times, so a period keeps its hours across a daylight-saving change; the time counted is real
elapsed time (an hour is 3,600 s whatever the offset). Calendar time is plain elapsed time. Every
moment returned is in UTC.

Durations are written `30m`, `4h`, `3d`. In business time `Nd` means "by close of business on the
Nth business day after the day it started" (how "acknowledge within 1 business day" is meant);
`m` and `h` count open time only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Measure = Literal["business", "calendar"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366
"""How far ahead a due time is looked for before the calendar is declared never open."""


@dataclass(frozen=True)
class Opening:
    days: frozenset[int]
    """0 is Monday."""
    opens: time
    closes: time


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    openings: tuple[Opening, ...]
    holidays: frozenset[date] = frozenset()

    def open_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening periods, in UTC (Python's arithmetic on datetimes of one time zone is
        wall-clock arithmetic, wrong across a daylight-saving change), in order; none on a
        holiday."""
        if day in self.holidays:
            return []
        periods = [
            (
                datetime.combine(day, o.opens, tzinfo=self.timezone).astimezone(UTC),
                datetime.combine(day, o.closes, tzinfo=self.timezone).astimezone(UTC),
            )
            for o in self.openings
            if day.weekday() in o.days
        ]
        return sorted(periods)

    def is_business_day(self, day: date) -> bool:
        return bool(self.open_periods(day))

    def add(self, start: datetime, open_time: timedelta) -> datetime:
        """The moment `open_time` of opening hours after `start` has passed."""
        left, start = open_time, start.astimezone(UTC)
        day = start.astimezone(self.timezone).date()
        for _ in range(MAX_DAYS):
            for opens, closes in self.open_periods(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                available = closes - begin
                if left <= available:
                    return begin + left
                left -= available
            day += timedelta(days=1)
        raise ValueError("the calendar is never open")

    def close_of_business_days_after(self, start: datetime, days: int) -> datetime:
        """Close of business on the `days`-th business day after `start`'s day."""
        day = start.astimezone(self.timezone).date()
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                days -= 1
                if days <= 0:
                    return self.open_periods(day)[-1][1]
        raise ValueError("the calendar is never open")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Opening hours between two moments."""
        total, start, end = timedelta(), start.astimezone(UTC), end.astimezone(UTC)
        day = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        while day <= last:
            for opens, closes in self.open_periods(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


def calendar_of(
    timezone: str, hours: list[tuple[list[str], str, str]], holidays: list[date]
) -> BusinessCalendar:
    """From the centre configuration's form: (weekdays, "HH:MM", "HH:MM") periods."""
    openings = tuple(
        Opening(
            frozenset(WEEKDAYS.index(d) for d in days),
            time.fromisoformat(opens),
            time.fromisoformat(closes),
        )
        for days, opens, closes in hours
    )
    return BusinessCalendar(ZoneInfo(timezone), openings, frozenset(holidays))


_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


def check_duration(text: str) -> str:
    if not _DURATION.match(text.strip()):
        raise ValueError(f"{text!r}: write a duration as 30m, 4h or 3d")
    return text.strip()


def due(start: datetime, within: str, measure: Measure, calendar: BusinessCalendar) -> datetime:
    """When a promise made at `start` to act `within` falls due."""
    match = _DURATION.match(within.strip())
    if match is None:
        raise ValueError(f"{within!r}: write a duration as 30m, 4h or 3d")
    amount, unit = int(match.group(1)), match.group(2)
    if measure == "calendar":
        return (
            start.astimezone(UTC)
            + {
                "m": timedelta(minutes=amount),
                "h": timedelta(hours=amount),
                "d": timedelta(days=amount),
            }[unit]
        )
    if unit == "d":
        return calendar.close_of_business_days_after(start, amount)
    return calendar.add(
        start, timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount)
    )


def warning_at(
    start: datetime, due_at: datetime, share: float, measure: Measure, calendar: BusinessCalendar
) -> datetime:
    """The moment `share` of the time to `due_at` has been used (in the clock's own measure)."""
    if measure == "calendar":
        return start.astimezone(UTC) + (due_at - start) * share
    return calendar.add(start, calendar.elapsed(start, due_at) * share)
