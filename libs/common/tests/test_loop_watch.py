"""The event loop's lag (`switchboard_event_loop_lag_seconds`) shows a loop held by blocking work
and stays near nothing on a free one."""

from __future__ import annotations

import asyncio
import contextlib
import time

from prometheus_client import CollectorRegistry, Histogram

from switchboard.common import service


def _histogram() -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    histogram = Histogram("lag_seconds", "lag", buckets=service.LOOP_LAG_BUCKETS, registry=registry)
    return registry, histogram


def _count(registry: CollectorRegistry, le: str) -> float:
    value = registry.get_sample_value("lag_seconds_bucket", {"le": le})
    assert value is not None
    return value


async def _watch_while(work: float, *, blocking: bool) -> CollectorRegistry:
    registry, histogram = _histogram()
    watcher = asyncio.create_task(service._watch_loop(histogram))
    await asyncio.sleep(0)  # the watcher asks to wake before the work starts
    if blocking:
        time.sleep(work)  # noqa: ASYNC251 (the blocking call an OCR run on the loop would be)
    await asyncio.sleep(service.LOOP_WATCH_SECONDS * 2.5)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    return registry


def test_a_loop_held_for_most_of_a_second_is_counted_late() -> None:
    registry = asyncio.run(_watch_while(1.2, blocking=True))
    assert _count(registry, "+Inf") >= 2
    assert _count(registry, "+Inf") - _count(registry, "0.5") == 1


def test_a_free_loop_wakes_on_time() -> None:
    registry = asyncio.run(_watch_while(1.2, blocking=False))
    assert _count(registry, "+Inf") >= 2
    assert _count(registry, "+Inf") == _count(registry, "0.5")
