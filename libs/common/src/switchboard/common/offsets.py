"""The broker's offsets, read-only: how far each partition goes, and how far a consumer group has
committed. Consumer lag is the difference; `switchboard status` shows it per service and every
service exports its own per partition (`switchboard_consumer_lag`)."""

from __future__ import annotations

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
        partitions = await self.partitions(topics)
        if not partitions:
            return {}
        committed = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
        ends = await self._consumer.end_offsets(partitions)
        return {
            tp: ends[tp] - max(0, committed[tp].offset if tp in committed else 0)
            for tp in partitions
        }
