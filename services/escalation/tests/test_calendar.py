"""Due times across business hours, weekends, public holidays and daylight-saving changes
(Sydney: clocks go forward on Sunday 4 October 2026 and back on Sunday 5 April 2026)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.escalation.calendar import calendar_of, due, warning_at

SYDNEY = ZoneInfo("Australia/Sydney")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CALENDAR = calendar_of(
    "Australia/Sydney",
    [(WEEKDAYS, "08:00", "12:00"), (WEEKDAYS, "13:00", "17:00")],
    [date(2026, 12, 25), date(2026, 12, 28)],  # Christmas, Boxing Day observed
)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SYDNEY)


@pytest.mark.parametrize(
    ("start", "within", "expected"),
    [
        (at(2026, 11, 24, 9, 0), "2h", at(2026, 11, 24, 11, 0)),  # inside one period
        (at(2026, 11, 24, 11, 0), "2h", at(2026, 11, 24, 14, 0)),  # across lunch
        (at(2026, 11, 24, 7, 0), "30m", at(2026, 11, 24, 8, 30)),  # before opening
        (at(2026, 11, 24, 12, 30), "1h", at(2026, 11, 24, 14, 0)),  # at lunch
        (at(2026, 11, 27, 16, 0), "2h", at(2026, 11, 30, 9, 0)),  # Friday into Monday
        (at(2026, 11, 28, 10, 0), "1h", at(2026, 11, 30, 9, 0)),  # from a Saturday
        (at(2026, 11, 24, 17, 0), "8h", at(2026, 11, 25, 17, 0)),  # a whole day
        (at(2026, 12, 24, 16, 0), "2h", at(2026, 12, 29, 9, 0)),  # over Christmas and Boxing Day
    ],
)
def test_business_hours(start: datetime, within: str, expected: datetime) -> None:
    assert due(start, within, "business", CALENDAR) == expected


def test_business_days_mean_close_of_business_on_the_nth_business_day_after() -> None:
    assert due(at(2026, 11, 24, 10, 0), "1d", "business", CALENDAR) == at(2026, 11, 25, 17, 0)
    assert due(at(2026, 11, 27, 10, 0), "1d", "business", CALENDAR) == at(2026, 11, 30, 17, 0)
    assert due(at(2026, 12, 24, 10, 0), "1d", "business", CALENDAR) == at(2026, 12, 29, 17, 0)


def test_opening_hours_keep_their_wall_clock_times_across_daylight_saving() -> None:
    # Friday 2 October 16:00 AEST (+10) + 4 business hours: 1 h on Friday, 3 h on Monday
    # 5 October, after the clocks went forward on the Sunday: 11:00 AEDT (+11).
    result = due(at(2026, 10, 2, 16, 0), "4h", "business", CALENDAR)
    assert result == at(2026, 10, 5, 11, 0)
    assert result.astimezone(SYDNEY).utcoffset() == timedelta(hours=11)
    # And back: Friday 3 April 2026 (+11) to Monday 6 April (+10).
    result = due(at(2026, 4, 3, 16, 0), "4h", "business", CALENDAR)
    assert result == at(2026, 4, 6, 11, 0)
    assert result.astimezone(SYDNEY).utcoffset() == timedelta(hours=10)


def test_calendar_time_is_elapsed_time_across_daylight_saving() -> None:
    start = at(2026, 10, 3, 12, 0)  # Saturday, +10
    result = due(start, "24h", "calendar", CALENDAR)
    assert result - start == timedelta(hours=24)
    assert result.astimezone(SYDNEY).hour == 13  # the wall clock moved an hour
    assert due(start, "30d", "calendar", CALENDAR) - start == timedelta(days=30)


def test_a_warning_at_a_share_of_the_business_time() -> None:
    start = at(2026, 11, 27, 16, 0)  # Friday
    due_at = due(start, "4h", "business", CALENDAR)  # Monday 11:00
    assert warning_at(start, due_at, 0.75, "business", CALENDAR) == at(2026, 11, 30, 10, 0)
    assert warning_at(start, start + timedelta(hours=8), 0.5, "calendar", CALENDAR) == start + (
        timedelta(hours=4)
    )


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="30m, 4h or 3d"):
        due(at(2026, 11, 24, 9, 0), "soon", "business", CALENDAR)
