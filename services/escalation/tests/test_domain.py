"""Escalation's rules without a database: which policy applies, grace, how a clock ends, and
where a breach takes a contact on the escalation path."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.escalation.domain import breach, finished, grace_after, matches, missed

LEVELS = [
    {"name": "team_leader", "queue": "tier2", "priority": 7, "notify": ["leader"]},
    {"name": "manager", "queue": "tier3", "priority": 9, "notify": ["manager"]},
    {"name": "complaints", "queue": "complaints", "priority": 10, "notify": ["cx"]},
]


def test_a_policy_matches_its_queues_channels_and_least_priority() -> None:
    policy = {"queues": ["billing"], "channels": [], "min_priority": 5}
    assert matches(policy, queue_id="billing", channel="email", priority=5)
    assert not matches(policy, queue_id="billing", channel="email", priority=None)
    assert not matches(policy, queue_id="general", channel="email", priority=9)
    everyone = {"queues": [], "channels": [], "min_priority": None}
    assert matches(everyone, queue_id=None, channel=None, priority=None)


def test_grace_and_how_a_clock_ends() -> None:
    due = datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert grace_after(due, "30m") == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert grace_after(due, "2d") == datetime(2026, 12, 6, 9, tzinfo=UTC)
    assert (finished("running"), finished("breached")) == ("met", "met_late")
    assert missed("first_response", due) == "first response due 2026-12-04 09:00 UTC missed"


def test_a_breach_climbs_one_level_and_runs_on_until_the_last() -> None:
    climbs = [
        breach(LEVELS, contact_level=n, kind="resolution", complaint_level="complaints")
        for n in range(4)
    ]
    assert [(b.level, b.rearm) for b in climbs] == [(0, True), (1, True), (2, False), (2, False)]


def test_a_complaints_breach_goes_to_the_complaint_level_and_stops_there() -> None:
    straight = breach(
        LEVELS, contact_level=0, kind="complaint_resolution", complaint_level="manager"
    )
    assert (straight.level, straight.rearm) == (1, False)
    unnamed = breach(LEVELS, contact_level=0, kind="complaint_ack", complaint_level="nobody")
    assert unnamed.level == 2


def test_without_a_path_a_breach_only_alerts() -> None:
    assert breach([], contact_level=0, kind="resolution", complaint_level="x").level is None
