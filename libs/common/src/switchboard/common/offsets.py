"""The broker's offsets, read-only: how far each partition goes, and how far a consumer group has
committed. Consumer lag is the difference; `switchboard status` shows it per service and every
service exports its own per partition (`switchboard_consumer_lag`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


class Offsets:
    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)

    async def start(self) -> None:
        await self._consumer.start()
        await self._admin.start()

    async def stop(self) -> None:
        await self._admin.close()
        await self._consumer.stop()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        await self._consumer.topics()  # refreshes the metadata
        return self._known(topics)

    def _known(self, topics: Iterable[str]) -> list[TopicPartition]:
        """The partitions of `topics` as the last metadata refresh saw them."""
        return [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(self._consumer.partitions_for_topic(topic) or [])
        ]

    async def held(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Records each partition holds now (end minus beginning)."""
        if not partitions:
            return {}
        ends = await self._consumer.end_offsets(partitions)
        starts = await self._consumer.beginning_offsets(partitions)
        return {tp: ends[tp] - starts[tp] for tp in partitions}

    async def lag(self, group: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """Per partition, records not yet committed by `group` (negative: the group committed past
        the end, which a broker that lost its data on restart shows)."""
        return (await self.lags({group: list(topics)}))[group]

    async def lags(self, groups: dict[str, list[str]]) -> dict[str, dict[TopicPartition, int]]:
        """`lag` for several groups at once: one metadata refresh, one end-offsets request over
        every partition, and the groups' committed offsets asked for concurrently. `switchboard
        status` asked topic by topic and group by group, about a hundred round trips one after
        another, and on a busy broker ran past its deadline."""
        await self._consumer.topics()  # refreshes the metadata
        wanted = {group: self._known(topics) for group, topics in groups.items()}
        every = sorted({tp for partitions in wanted.values() for tp in partitions})
        ends = await self._consumer.end_offsets(every) if every else {}
        named = [group for group, partitions in wanted.items() if partitions]
        committed = await asyncio.gather(
            *(
                self._admin.list_consumer_group_offsets(group, partitions=wanted[group])
                for group in named
            )
        )
        by_group = dict(zip(named, committed, strict=True))
        return {
            group: {
                tp: ends[tp] - max(0, by_group[group][tp].offset if tp in by_group[group] else 0)
                for tp in partitions
            }
            for group, partitions in wanted.items()
        }
