"""Dispatch's decisions: the status machine, technician choice, pre-emption and approvals."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.common.delivery import classify
from switchboard.common.errors import InvalidInput
from switchboard.dispatch.domain import (
    TRANSITIONS,
    ApprovalPolicy,
    CurrentJob,
    IllegalTransition,
    JobNeed,
    Point,
    Shift,
    Technician,
    TravelModel,
    approval_needed,
    check_transition,
    choose,
    great_circle_km,
    may_approve,
    preemption,
)
from switchboard.dispatch.eta import EtaError
from switchboard.dispatch.fieldcomm import MessageError

SYDNEY = ZoneInfo("Australia/Sydney")
# Tuesday 2026-11-24 10:00 in Sydney (AEDT, UTC+11).
NOW = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
WEEKDAYS = Shift(frozenset(range(5)), time(7), time(17))
CBD = Point(-33.8688, 151.2093)
PARRAMATTA = Point(-33.8150, 151.0011)
BONDI = Point(-33.8915, 151.2767)
TRAVEL = TravelModel(road_factor=1.3, speed_kmh=40)


def tech(
    tid: str,
    at: Point,
    *,
    skills: str = "electrical",
    jobs: tuple[CurrentJob, ...] = (),
    free_from: datetime = NOW,
    free_at: Point | None = None,
) -> Technician:
    return Technician(
        technician_id=tid,
        skills=frozenset(skills.split()),
        shifts=(WEEKDAYS,),
        timezone=SYDNEY,
        location=at,
        free_at=free_at or at,
        free_from=free_from,
        jobs=jobs,
    )


def job(
    *, at: Point = CBD, skills: str = "electrical", hours: float = 4, priority: str = "normal"
) -> JobNeed:
    return JobNeed(
        job_id="job-1",
        site=at,
        skills=frozenset(skills.split()),
        estimated_minutes=60,
        window_start=NOW,
        window_end=NOW + timedelta(hours=hours),
        priority=priority,
    )


def test_great_circle_distance_and_travel_time() -> None:
    km = great_circle_km(CBD, PARRAMATTA)
    assert 19.5 < km < 20.5  # Sydney CBD to Parramatta, as the crow flies
    assert TRAVEL.minutes(CBD, PARRAMATTA) == pytest.approx(km * 1.3 / 40 * 60)
    assert TRAVEL.minutes(CBD, CBD) == 0


def test_the_nearest_qualified_technician_on_shift_gets_the_job() -> None:
    choice = choose(
        job(),
        [tech("far", PARRAMATTA), tech("near", BONDI), tech("unskilled", CBD, skills="plumbing")],
        now=NOW,
        travel=TRAVEL,
    )
    assert choice.chosen is not None and choice.chosen.technician_id == "near"
    assert choice.passed_over == {"unskilled": "lacks electrical"}
    assert "near:" in choice.reason and "min away" in choice.reason


def test_equal_travel_goes_to_the_least_loaded() -> None:
    busy = tech("busy", BONDI, jobs=(CurrentJob("j0", "low", "despatched"),))
    choice = choose(job(at=BONDI), [busy, tech("idle", BONDI)], now=NOW, travel=TRAVEL)
    assert choice.chosen is not None and choice.chosen.technician_id == "idle"


def test_a_technician_who_cannot_arrive_within_the_window_is_passed_over() -> None:
    # Free only in three hours, 35 minutes' drive away; the window closes in two.
    late = tech("late", PARRAMATTA, free_from=NOW + timedelta(hours=3))
    choice = choose(job(hours=2), [late], now=NOW, travel=TRAVEL)
    assert choice.chosen is None
    assert "cannot arrive before the window closes" in choice.passed_over["late"]


def test_a_technician_off_shift_is_passed_over() -> None:
    evening = NOW + timedelta(hours=8)  # 18:00 in Sydney
    need = JobNeed("j", CBD, frozenset(), 60, evening, evening + timedelta(hours=2))
    choice = choose(need, [tech("t", CBD)], now=evening, travel=TRAVEL)
    assert choice.chosen is None and choice.passed_over["t"].startswith("not on shift")


def test_a_job_asked_for_before_anyone_starts_is_booked_for_the_first_shift() -> None:
    # 05:30 in Sydney, a window until 13:30; the technician starts at 07:00, 15 min away.
    early = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    need = JobNeed("j", CBD, frozenset(), 60, early, early + timedelta(hours=8))
    near = Point(-33.8688, 151.2793)  # about 6.5 km east
    choice = choose(need, [tech("t", near, free_from=early)], now=early, travel=TRAVEL)
    assert choice.chosen is not None and choice.chosen.booked_ahead
    seven = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 07:00 in Sydney
    assert choice.chosen.arrival == seven + timedelta(minutes=TRAVEL.minutes(near, CBD))
    assert "booked ahead" in choice.reason


def test_a_shift_that_starts_after_the_window_closes_is_no_booking() -> None:
    early = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 05:30 in Sydney
    need = JobNeed("j", CBD, frozenset(), 60, early, early + timedelta(hours=1))
    choice = choose(need, [tech("t", CBD, free_from=early)], now=early, travel=TRAVEL)
    assert choice.chosen is None
    assert choice.passed_over["t"] == "not on shift until Tue 07:00, after the window closes"


def test_technicians_already_tried_are_excluded() -> None:
    choice = choose(
        job(), [tech("a", CBD), tech("b", BONDI)], now=NOW, travel=TRAVEL, exclude=["a"]
    )
    assert choice.chosen is not None and choice.chosen.technician_id == "b"


def test_the_job_status_machine() -> None:
    path = ["created", "despatched", "confirmed", "en_route", "on_site", "completed"]
    for current, following in itertools.pairwise(path):
        check_transition(current, following)
    check_transition("despatched", "created")  # re-despatch
    check_transition("created", "cancelled")
    with pytest.raises(IllegalTransition, match="a job that is created cannot become on_site"):
        check_transition("created", "on_site")
    with pytest.raises(IllegalTransition, match="it is finished"):
        check_transition("completed", "en_route")
    with pytest.raises(IllegalTransition):
        check_transition("on_site", "created")  # a job under way is not pre-empted
    assert all(not TRANSITIONS[s] for s in ("completed", "cancelled", "failed"))


def test_an_emergency_pre_empts_the_nearest_lower_priority_job() -> None:
    emergency = job(at=CBD, hours=0.5, priority="emergency")
    near = tech(
        "near",
        BONDI,
        jobs=(CurrentJob("routine", "normal", "en_route"),),
        free_from=NOW + timedelta(hours=5),
    )
    farther = tech(
        "farther",
        PARRAMATTA,
        jobs=(CurrentJob("low-1", "low", "confirmed"),),
        free_from=NOW + timedelta(hours=5),
    )
    assert choose(emergency, [near, farther], now=NOW, travel=TRAVEL).chosen is None
    chosen = preemption(emergency, [near, farther], now=NOW, travel=TRAVEL, within_km=30)
    assert chosen is not None and chosen.technician_id == "near"
    assert chosen.displaces == ("routine",)
    assert "pre-empting routine" in chosen.reason


def test_what_is_never_pre_empted() -> None:
    emergency = job(at=CBD, hours=0.5, priority="emergency")
    on_site = tech("on-site", BONDI, jobs=(CurrentJob("j", "low", "on_site"),))
    urgent = tech("urgent", BONDI, jobs=(CurrentJob("j", "urgent", "confirmed"),))
    far = tech("far", PARRAMATTA, jobs=(CurrentJob("j", "low", "confirmed"),))
    assert preemption(emergency, [on_site, urgent], now=NOW, travel=TRAVEL, within_km=30) is None
    assert preemption(emergency, [far], now=NOW, travel=TRAVEL, within_km=5) is None
    normal = job(at=CBD, hours=0.5)
    assert preemption(normal, [far], now=NOW, travel=TRAVEL, within_km=50) is None


def test_the_approval_policy() -> None:
    policy = ApprovalPolicy(
        kinds=frozenset({"safety"}),
        broadcast_over=10,
        approvers=frozenset({"ops-manager", "dispatcher"}),
    )
    assert approval_needed("notice", 3, policy) is None
    assert approval_needed("notice", 10, policy) is None
    assert approval_needed("notice", 11, policy) == (
        "a message to 11 people (more than 10) needs approval"
    )
    assert approval_needed("safety", 1, policy) == "safety messages need approval"
    assert may_approve("ops-manager", "dispatcher", policy) is None
    assert may_approve("dispatcher", "dispatcher", policy) == (
        "the author of a message cannot approve it"
    )
    assert may_approve("someone", "dispatcher", policy) == "'someone' is not an approver"


def test_a_refused_change_is_dead_lettered_at_once_not_retried() -> None:
    """The status machine's, an ETA's and a message's refusals are the same on every retry:
    delivery sets the message aside with the reason at once (and the API answers 409)."""
    for refusal in (IllegalTransition("no"), EtaError("no"), MessageError("no")):
        assert classify(refusal) == "permanent"
        assert isinstance(refusal, InvalidInput) and refusal.status == 409
