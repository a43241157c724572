"""Adherence and conformance from a scripted day of agent states."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from switchboard.workforce import adherence
from switchboard.workforce.adherence import StateSpan
from switchboard.workforce.roster import Activity

DAY = datetime(2026, 12, 7)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


SCHEDULE = (
    Activity(at(9), at(11), "work"),
    Activity(at(11), at(11, 15), "break"),
    Activity(at(11, 15), at(13), "work"),
)
# Logged in 10 minutes late, took the break on time but came back 10 minutes late, then worked.
STATES = [
    StateSpan(at(8), at(9, 10), "offline"),
    StateSpan(at(9, 10), at(11), "available"),
    StateSpan(at(11), at(11, 25), "break"),
    StateSpan(at(11, 25), None, "available"),
]


def test_a_scripted_day() -> None:
    """Scheduled 09:00-13:00 (240 min). Out of adherence 09:00-09:10 and 11:15-11:25: 220 of 240
    minutes adherent. Scheduled work 225 min; worked 110 + 95 = 205 min."""
    figures = adherence.measure(SCHEDULE, STATES, at(13))
    assert figures.scheduled_seconds == 240 * 60
    assert figures.adherent_seconds == 220 * 60
    assert figures.adherence == pytest.approx(220 / 240)
    assert figures.conformance == pytest.approx(205 / 225)
    assert figures.out_since is not None  # 13:00: rostered off, still available
    assert figures.expected_now == "offline" and figures.actual_now == "available"


def test_out_of_adherence_is_timed_from_its_start_and_alerted_once_past_the_grace() -> None:
    now = at(11, 22)
    figures = adherence.measure(SCHEDULE, STATES, now)
    assert figures.expected_now == "available" and figures.actual_now == "break"
    assert figures.out_since == at(11, 15)
    grace = timedelta(minutes=5)
    assert adherence.alert_due(figures, now, grace, alerted_for=None)
    assert not adherence.alert_due(figures, now, grace, alerted_for=at(11, 15))
    early = adherence.measure(SCHEDULE, STATES, at(11, 18))
    assert not adherence.alert_due(early, at(11, 18), grace, alerted_for=None)
    back = adherence.measure(SCHEDULE, STATES, at(11, 40))
    assert back.out_since is None


def test_before_the_shift_nothing_is_measured() -> None:
    figures = adherence.measure(SCHEDULE, STATES, at(8, 30))
    assert figures.adherence is None and figures.conformance is None
    assert figures.out_since is None  # offline when not rostered: in adherence


def test_team_figures_add_up_times() -> None:
    one = adherence.measure(SCHEDULE, STATES, at(13))
    perfect = adherence.measure(
        SCHEDULE,
        [
            StateSpan(at(9), at(11), "available"),
            StateSpan(at(11), at(11, 15), "break"),
            StateSpan(at(11, 15), None, "available"),
        ],
        at(13),
    )
    team_adherence, team_conformance = adherence.team([one, perfect])
    assert team_adherence == pytest.approx((220 + 240) / 480)
    assert team_conformance == pytest.approx((205 + 225) / 450)
