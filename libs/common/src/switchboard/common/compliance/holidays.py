"""Australia's national public holidays, on which no telemarketing call or marketing fax may be made
(Telemarketing and Research Industry Standard 2017; Fax Marketing Industry Standard 2021).

National means observed in every state and territory: New Year's Day, Australia Day, Good Friday,
Easter Monday, Anzac Day, Christmas Day and Boxing Day, with the weekday substitutes the states give
when one falls on a weekend (all are counted: when in doubt, do not call).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache


def easter_sunday(year: int) -> date:
    """The Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def national_public_holidays(year: int) -> frozenset[date]:
    easter = easter_sunday(year)
    fixed = [date(year, 1, 1), date(year, 1, 26), date(year, 4, 25)]
    days = {*fixed, easter - timedelta(days=2), easter + timedelta(days=1)}
    for day in fixed[:2]:  # New Year's Day and Australia Day move to Monday from a weekend
        if day.weekday() >= 5:
            days.add(day + timedelta(days=7 - day.weekday()))
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    days |= {christmas, boxing}
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday are the substitutes
        days |= {date(year, 12, 27), date(year, 12, 28)}
    elif christmas.weekday() == 6:  # Sunday: Christmas moves to Tuesday, Boxing Day stays Monday
        days.add(date(year, 12, 27))
    elif boxing.weekday() == 5:  # Boxing Day on Saturday: Monday 28th
        days.add(date(year, 12, 28))
    return frozenset(days)


def is_national_public_holiday(day: date) -> bool:
    return day in national_public_holidays(day.year)
