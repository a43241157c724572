"""Which topics a consumer's fetches name on the embedded broker: while records flow, those that
had records lately, and now and then every topic.

Tansu answers a fetch by looking at every topic it names, again and again within its wait
(`pacing.py`), so a fetch costs the broker more the more topics it names. One consumer fetching
with a 15 ms wait, as a busy one does, measured on this project's machines (Tansu 0.6, a topic a
partition): 2.2 % of a core in the broker naming 1 topic, 4.6 % naming 5, 6.9 % naming 15 and
12.4 % naming 30 (`deploy/CAPACITY.md`, the eleventh round). A busy consumer fetches every 15 to
60 ms, and most of its topics carry nothing in any one flow: recording reads 25 topics, and an
email contact puts records on five of them.

So while a consumer's records flow, each fetch names only the topics that had a record within
`HOT_SECONDS`, and one fetch every `FULL_LOOK_SECONDS` names them all. A record on a quiet topic
waits at most that long more, about what the first record after a quiet spell waits anyway (the
idle fetch, 500 ms, is looked into at half the wait left). Nothing is skipped: a topic left out
of a fetch keeps its position, and the next full look fetches from there. A consumer with no
topic hot names every topic, as before.

Only on the embedded broker: Kafka answers a held fetch when a record arrives, so there a quiet
topic left out would wait for the fetch's whole wait, for nothing saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

HOT_SECONDS = 2.0
"""A topic with a record within this long is fetched every time."""
FULL_LOOK_SECONDS = 0.25
"""How often a fetch names every topic, hot or not."""


class FetchFocus:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_record: dict[str, float] = {}
        self._last_full_look = float("-inf")
        self._fetcher: Any = None

    def records_seen(self, topics: Iterable[str]) -> None:
        now = self._clock()
        for topic in topics:
            self._last_record[topic] = now

    def attach(self, consumer: Any) -> None:
        """Focus the fetches `consumer` sends from now on (again after a restart gave it a new
        fetcher). aiokafka builds each fetch request in its fetcher's `_get_actions_per_node`;
        there is no public way to choose what a running consumer's fetches name."""
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is None or fetcher is self._fetcher:
            return
        build = fetcher._get_actions_per_node

        def focused(assignment: Any) -> tuple[Any, ...]:
            requests, *rest = build(assignment)
            return (self.narrowed(requests), *rest)

        fetcher._get_actions_per_node = focused
        self._fetcher = fetcher

    def narrowed(self, requests: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """Each `(node, FetchRequest)` to send, naming only the hot topics unless a full look is
        due. A request that would name no topic is sent whole, and counts as the full look."""
        if not requests:
            return requests
        now = self._clock()
        if now - self._last_full_look >= FULL_LOOK_SECONDS:
            self._last_full_look = now
            return requests
        hot = {topic for topic, at in self._last_record.items() if now - at < HOT_SECONDS}
        named = [[(t, partitions) for t, partitions in r.topics if t in hot] for _, r in requests]
        if not all(named):
            self._last_full_look = now
            return requests
        for (_node, request), topics in zip(requests, named, strict=True):
            request._topics = topics  # read back by the fetcher for the response's offsets
        return requests
