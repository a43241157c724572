"""A consumer's offsets, committed in rounds after the batches were applied: never past a record
that was not applied, kept when the broker is away, dropped when a rebalance took the partition."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError

from switchboard.common.commits import Commits


class _Consumer:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.commits: list[dict[TopicPartition, int]] = []
        self.assigned = {A, B}

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.commits.append(dict(offsets))


A, B = TopicPartition("contact.received", 0), TopicPartition("contact.wrapped", 0)


def _records(topic: str, partition: int, *offsets: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(topic=topic, partition=partition, offset=o) for o in offsets]


async def test_batches_applied_within_a_round_are_committed_together_past_their_last_record() -> (
    None
):
    consumer, commits = _Consumer(), Commits(every=0.05)
    commits.applied(consumer, _records("contact.received", 0, 4, 5))
    commits.applied(
        consumer, _records("contact.wrapped", 0, 9) + _records("contact.received", 0, 6)
    )
    assert consumer.commits == []  # not per batch
    await asyncio.sleep(0.1)
    assert consumer.commits == [{A: 7, B: 10}]
    commits.applied(consumer, _records("contact.received", 0, 7))
    await asyncio.sleep(0.1)
    assert consumer.commits == [{A: 7, B: 10}, {A: 8}]  # the next round: only what is new
    await asyncio.sleep(0.1)
    assert len(consumer.commits) == 2  # nothing pending: no empty commit


async def test_offsets_the_broker_did_not_take_are_committed_in_the_next_round() -> None:
    for failure in (KafkaConnectionError("away"), CommitFailedError("rebalancing")):
        consumer, commits = _Consumer(failure), Commits(every=0.05)
        commits.applied(consumer, _records("contact.received", 0, 4))
        await asyncio.sleep(0.08)
        assert consumer.commits == [] and commits.pending == {A: 5}
        commits.applied(consumer, _records("contact.received", 0, 5))
        await asyncio.sleep(0.1)
        assert consumer.commits == [{A: 6}]


async def test_offsets_of_partitions_a_rebalance_took_away_are_dropped() -> None:
    consumer, commits = _Consumer(), Commits(every=0.05)
    commits.applied(
        consumer, _records("contact.received", 0, 4) + _records("contact.wrapped", 0, 7)
    )
    consumer.assigned = {A}  # contact.wrapped's partition is another member's now
    await asyncio.sleep(0.1)
    assert consumer.commits == [{A: 5}] and commits.pending == {}


async def test_stopping_commits_what_is_pending_at_once_and_schedules_nothing_after() -> None:
    consumer, commits = _Consumer(), Commits(every=10)
    commits.applied(consumer, _records("contact.received", 0, 4))
    await commits.stop()
    assert consumer.commits == [{A: 5}]
    commits.applied(consumer, _records("contact.received", 0, 5))  # a batch ending as it stops
    assert commits._timer is None
