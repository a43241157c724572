"""What a consumer's fetches name on the embedded broker (`fetch_focus.py`): the hot topics while
records flow, every topic at each full look, and every topic when none is hot."""

from __future__ import annotations

from aiokafka.protocol.fetch import FetchRequest

from switchboard.common.fetch_focus import FULL_LOOK_SECONDS, HOT_SECONDS, FetchFocus


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _requests(*topics: str) -> list[tuple[int, FetchRequest]]:
    named = [(topic, [(0, 7, 1_048_576)]) for topic in topics]
    return [(1, FetchRequest(15, 1, 52_428_800, 0, named))]


def _named(requests: list[tuple[int, FetchRequest]]) -> list[str]:
    return [topic for _, request in requests for topic, _ in request.topics]


def test_while_records_flow_a_fetch_names_the_hot_topics_and_every_topic_at_each_full_look() -> (
    None
):
    clock = _Clock()
    focus = FetchFocus(clock=clock)
    focus.records_seen(["contact.queued", "contact.assigned"])
    every = ("contact.queued", "contact.assigned", "job.status", "survey.responded")
    assert _named(focus.narrowed(_requests(*every))) == list(every)  # the first look is full
    clock.now += 0.015
    assert _named(focus.narrowed(_requests(*every))) == ["contact.queued", "contact.assigned"]
    clock.now += FULL_LOOK_SECONDS
    assert _named(focus.narrowed(_requests(*every))) == list(every)
    clock.now += 0.015
    request = focus.narrowed(_requests(*every))[0][1]
    # The fetcher reads the offsets it asked for back from the request it sent.
    assert request.topics == [
        ("contact.queued", [(0, 7, 1_048_576)]),
        ("contact.assigned", [(0, 7, 1_048_576)]),
    ]


def test_a_topic_goes_cold_after_a_quiet_spell_and_hot_again_with_its_next_record() -> None:
    clock = _Clock()
    focus = FetchFocus(clock=clock)
    focus.records_seen(["a", "b"])
    focus.narrowed(_requests("a", "b", "c"))  # the full look
    clock.now += HOT_SECONDS / 2
    focus.records_seen(["a"])
    clock.now += HOT_SECONDS / 2 + 0.01
    focus.narrowed(_requests("a", "b", "c"))  # full look again, since it is due
    clock.now += 0.015
    assert _named(focus.narrowed(_requests("a", "b", "c"))) == ["a"]
    focus.records_seen(["c"])
    clock.now += 0.015
    assert _named(focus.narrowed(_requests("a", "b", "c"))) == ["a", "c"]


def test_with_no_topic_hot_every_fetch_names_every_topic() -> None:
    clock = _Clock()
    focus = FetchFocus(clock=clock)
    for _ in range(3):
        assert _named(focus.narrowed(_requests("a", "b"))) == ["a", "b"]
        clock.now += 0.015
    focus.records_seen(["z"])  # hot, but not among what this consumer fetches now
    clock.now += 0.015
    assert _named(focus.narrowed(_requests("a", "b"))) == ["a", "b"]
    assert focus.narrowed([]) == []  # a fetch in flight: nothing to send
