"""Classification, admission and requirements: pure rules, no broker, no database."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.common.centre import QueueConfig, RoutingStep, RuleConfig
from switchboard.common.promises_config import HoursConfig
from switchboard.routing.domain import (
    ContactTraits,
    DoNotRoute,
    QueueSpec,
    Route,
    admit,
    after_dial,
    callback_of,
    callback_request_id,
    classify,
    is_open,
    lowest_level,
    next_open,
)

QUEUES = [
    QueueConfig(id="general", name="General", default=True, priority=5),
    QueueConfig(id="faults", name="Faults", priority=8),
    QueueConfig(id="vip", name="VIP", priority=9),
]
RULES = [
    RuleConfig(name="gold customers", queue="vip", tier=["gold"]),
    RuleConfig(name="outage words", queue="faults", keywords=["outage", "no power"]),
    RuleConfig(name="faults line", queue="faults", channel=["phone"], ivr=["2"], priority=10),
    RuleConfig(name="faults number", queue="faults", destination=["+61255501098"]),
]


def test_no_rule_matching_means_the_default_queue() -> None:
    decision = classify(ContactTraits("email", text="Please help"), queues=QUEUES, rules=RULES)
    assert decision == Route("general", 5, "default", "email contact to the default queue")


@pytest.mark.parametrize(
    ("traits", "queue", "priority", "rule"),
    [
        (ContactTraits("email", text="There is an OUTAGE on my street"), "faults", 8, "outage"),
        (ContactTraits("phone", ivr=["1", "2"]), "faults", 10, "faults line"),
        (ContactTraits("phone", destination="+61255501098"), "faults", 8, "faults number"),
        (ContactTraits("email", text="outage", tier="gold"), "vip", 9, "gold"),
    ],
)
def test_the_first_matching_rule_picks_queue_and_priority(
    traits: ContactTraits, queue: str, priority: int, rule: str
) -> None:
    decision = classify(traits, queues=QUEUES, rules=RULES)
    assert isinstance(decision, Route)
    assert (decision.queue_id, decision.priority) == (queue, priority)
    assert rule in decision.rule


def test_every_condition_of_a_rule_must_hold() -> None:
    """The IVR rule also names the phone channel: an email saying '2' does not match it."""
    decision = classify(ContactTraits("email", ivr=["2"]), queues=QUEUES, rules=RULES)
    assert isinstance(decision, Route) and decision.queue_id == "general"


def test_language_rules_match_the_caller_s_language() -> None:
    rules = [RuleConfig(name="vietnamese", queue="vip", language=["vi"])]
    assert classify(ContactTraits("phone", language="vi"), queues=QUEUES, rules=rules) == Route(
        "vip", 9, "vietnamese", "phone contact matched rule 'vietnamese'"
    )


def test_machine_written_mail_is_never_routed() -> None:
    traits = ContactTraits("email", flags=["auto_reply", "bulk"])
    decision = classify(traits, queues=QUEUES, rules=RULES)
    assert isinstance(decision, DoNotRoute)
    assert "auto_reply" in decision.reason and "bulk" in decision.reason


def test_a_tenant_without_a_default_queue_is_not_routed_and_says_why() -> None:
    decision = classify(ContactTraits("phone"), queues=QUEUES[1:], rules=[])
    assert decision == DoNotRoute("no rule matched and the tenant has no default queue")


MONDAY_10AM = datetime(2026, 11, 23, 10, 0)
SUNDAY_10AM = datetime(2026, 11, 22, 10, 0)


def test_business_hours() -> None:
    hours = [HoursConfig(days=["mon", "tue"], open="08:00", close="18:00")]
    assert is_open(hours, MONDAY_10AM)
    assert not is_open(hours, SUNDAY_10AM)
    assert not is_open(hours, MONDAY_10AM.replace(hour=18))
    assert is_open([], SUNDAY_10AM)


def _queues(**changes: object) -> dict[str, QueueConfig]:
    closed = [HoursConfig(days=["mon"])]
    return {
        "general": QueueConfig(id="general", name="G", hours=closed, **changes),  # type: ignore[arg-type]
        "after-hours": QueueConfig(id="after-hours", name="A"),
    }


def test_a_closed_queue_can_send_contacts_elsewhere_or_turn_them_away() -> None:
    route = Route("general", 5, "default", "email contact to the default queue")
    queues = _queues(when_closed="after-hours")
    sent = admit(route, queues=queues, waiting={}, local=SUNDAY_10AM)
    assert sent.queue_id == "after-hours" and "closed" in sent.reason
    assert admit(route, queues=queues, waiting={}, local=MONDAY_10AM).queue_id == "general"
    rejected = admit(route, queues=_queues(when_closed="reject"), waiting={}, local=SUNDAY_10AM)
    assert rejected.queue_id is None and "is closed" in rejected.reason
    waiting = admit(route, queues=_queues(), waiting={}, local=SUNDAY_10AM)
    assert waiting.queue_id == "general", "written contacts wait for the morning by default"


def test_a_full_queue_applies_its_rule_to_the_next_contact() -> None:
    route = Route("general", 5, "default", "")
    queues = _queues(max_waiting=2, when_full="after-hours")
    assert admit(route, queues=queues, waiting={"general": 1}, local=MONDAY_10AM).queue_id == (
        "general"
    )
    full = admit(route, queues=queues, waiting={"general": 2}, local=MONDAY_10AM)
    assert full.queue_id == "after-hours" and "full (2 waiting)" in full.reason


def test_a_redirection_loop_turns_the_contact_away_instead_of_hanging() -> None:
    queues = {
        "a": QueueConfig(id="a", name="A", max_waiting=1, when_full="b"),
        "b": QueueConfig(id="b", name="B", max_waiting=1, when_full="a"),
    }
    admission = admit(
        Route("a", 5, "r", ""), queues=queues, waiting={"a": 1, "b": 1}, local=MONDAY_10AM
    )
    assert admission.queue_id is None and "loop" in admission.reason


def test_steps_relax_requirements_in_order() -> None:
    queue = QueueSpec.from_config(
        "acme",
        QueueConfig(
            id="billing",
            name="Billing",
            skills={"billing": 4, "spanish": 3},
            steps=[
                RoutingStep(after_seconds=60, min_proficiency=2),
                RoutingStep(after_seconds=30, drop_skills=["spanish"]),
                RoutingStep(after_seconds=120, add_groups=["floor-walkers"]),
            ],
        ),
    )
    assert [queue.level_at(w) for w in (0, 29, 30, 60, 500)] == [0, 0, 1, 2, 3]
    assert dict(queue.requirement(1).skills) == {"billing": 4}
    assert dict(queue.requirement(2).skills) == {"billing": 2}
    assert queue.requirement(3).groups == {"floor-walkers"}
    requirements = [queue.requirement(level) for level in range(4)]
    assert lowest_level({"billing": 5, "spanish": 5}, frozenset(), requirements) == 0
    assert lowest_level({"billing": 2}, frozenset(), requirements) == 2
    assert lowest_level({}, frozenset({"floor-walkers"}), requirements) == 3
    assert lowest_level({"sales": 5}, frozenset(), requirements) is None


def test_next_open_finds_the_calling_hours() -> None:
    hours = [HoursConfig(days=["mon", "tue", "wed", "thu", "fri"], open="08:00", close="20:00")]
    sydney = ZoneInfo("Australia/Sydney")
    friday_night = datetime(2026, 12, 4, 21, 0, tzinfo=sydney)
    assert next_open(hours, friday_night) == datetime(2026, 12, 7, 8, 0, tzinfo=sydney)
    monday_noon = datetime(2026, 12, 7, 12, 0, tzinfo=sydney)
    assert next_open(hours, monday_noon) == monday_noon
    assert next_open([], friday_night) == friday_night


def test_a_callbacks_dial_results() -> None:
    hours = [HoursConfig(days=["mon", "tue", "wed", "thu", "fri"], open="08:00", close="20:00")]
    sydney = ZoneInfo("Australia/Sydney")
    evening = datetime(2026, 12, 7, 19, 55, tzinfo=sydney)
    common = {"max_attempts": 3, "retry_after": timedelta(minutes=10), "hours": hours}
    assert after_dial("answered", "", attempt=1, local_now=evening, **common).outcome == (
        "connected"
    )
    taken = after_dial("delivered", "", attempt=1, local_now=evening, **common)
    assert (taken.outcome, taken.reason) == ("connected", "the dial was delivered")
    retry = after_dial("no_answer", "", attempt=1, local_now=evening, **common)
    assert retry.outcome == "retry"
    assert retry.retry_at == datetime(2026, 12, 8, 8, 0, tzinfo=sydney)  # after hours: morning
    assert retry.reason == "attempt 1 of 3: no answer"
    last = after_dial("busy", "", attempt=3, local_now=evening, **common)
    assert (last.outcome, last.retry_at) == ("unreachable", None)


def test_callback_request_ids_name_their_contact_and_attempt() -> None:
    assert callback_of(callback_request_id("c-1", 2)) == ("c-1", 2)
    assert callback_of("some-agents-request") is None
