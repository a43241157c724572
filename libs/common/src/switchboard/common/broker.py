"""Kafka wiring: the broker a service uses and topic creation.

Subscribers (switchboard.common.subscriptions) commit offsets only after their batch's effect is
durable, never FastStream's Kafka default of acking first: they seek back on error and hand the
batch's offsets to `switchboard.common.commits`, which commits them, partition by partition, in
rounds. Each consumer has one batch in flight (no `max_workers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY, Topic


def build_broker(*, bootstrap: str, service: str, metrics: CollectorRegistry) -> KafkaBroker:
    """Tracing is ours (a span per consumed record and per relayed row), not FastStream's
    middleware, whose batch consumers make one span per batch and so break per-contact traces.
    Likewise the log: FastStream writes "Received" and "Processed" for every batch at its
    `log_level`, two lines naming no contact beside the canonical line each message gets, through
    the standard library's slow path (1.5 to 3 % of a consumer's CPU at 20 contacts a second); at DEBUG
    they are dropped at INFO, and its errors are still logged at ERROR."""
    return KafkaBroker(
        bootstrap,
        logger=logging.getLogger("switchboard.faststream"),
        log_level=logging.DEBUG,
        client_id=f"switchboard-{service}",
        acks="all",
        linger_ms=2,
        request_timeout_ms=15_000,
        middlewares=[
            KafkaPrometheusMiddleware(registry=metrics, app_name=f"switchboard-{service}")
        ],
    )


class OutboxSender:
    """The producer the outbox relay sends with: aiokafka's own, with the broker's settings above
    (every replica acknowledges). The relay needs none of what FastStream adds to a publish, which
    cost four times the send itself per message (measured: 80 µs against 20)."""

    def __init__(self, *, bootstrap: str, service: str) -> None:
        self._bootstrap, self._client_id = bootstrap, f"switchboard-{service}-outbox"
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Made here, not at construction: aiokafka binds a producer to the running loop."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15_000,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __call__(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        """Queue one record; the future resolves when the broker acknowledged it."""
        if self._producer is None:
            raise ConnectionError("the outbox producer is not started")
        encoded = [(name, text.encode()) for name, text in headers.items()]
        sent: asyncio.Future[Any] = await self._producer.send(
            topic, value, key=key, headers=encoded
        )
        return sent


def consumer_group(service: str) -> str:
    return f"switchboard-{service}"


EMBEDDED_PARTITIONS = 1
"""Partitions per topic on the embedded broker. Partitions are how replicas of a service share
the work; the embedded broker serves one machine, with one process per service (`switchboard up`).
There each extra partition only costs: the broker reads every partition a fetch names on each of
its polls, and the consumer parses an answer for each (measured: with the declared 342 partitions,
the broker took 10 % of a core with nothing arriving)."""


EMBEDDED_SESSION_TIMEOUT_MS = 6_000
"""The consumer's session timeout on the embedded broker (aiokafka's default is 10 s). Tansu holds
a new member's join for half the session timeout (measured on Tansu 0.6: 5.0 s at 10 s, 3.0 s at
6 s), so every service start and every restart after a crash waited 5 s before it consumed. 6 s is
the least Apache Kafka allows (`group.min.session.timeout.ms`); a consumer whose event loop cannot
send a heartbeat for 6 s has stalled anyway. A real Kafka keeps the default: there the session
timeout is only how long a dead consumer holds its partitions."""


class Membership(NamedTuple):
    """A consumer's group-membership settings (a heartbeat at most a third of the session)."""

    session_timeout_ms: int = 10_000  # aiokafka's defaults
    heartbeat_interval_ms: int = 3_000


def membership_for(settings: Settings) -> Membership:
    """The group membership of a service's consumer on the configured broker."""
    if settings.on_embedded_broker:
        return Membership(EMBEDDED_SESSION_TIMEOUT_MS, EMBEDDED_SESSION_TIMEOUT_MS // 3)
    return Membership()


def partitions_for(settings: Settings) -> int | None:
    """The partition count every topic gets on the configured broker (None: as declared)."""
    return EMBEDDED_PARTITIONS if settings.on_embedded_broker else None


async def ensure_topics(
    bootstrap: str,
    *,
    replication_factor: int | None = None,
    partitions: int | None = None,
    topics: tuple[Topic, ...] = REGISTRY,
) -> None:
    """Create every registry topic and its dead-letter twin; existing ones are left as they are.

    Without a replication factor, each partition gets three replicas, or one per broker on a
    cluster of fewer (the embedded broker and a one-node Kafka: one). aiokafka will not send
    Kafka's "broker default" (-1) itself, so the number is always chosen here. `partitions`, when
    given, replaces each topic's declared count (`EMBEDDED_PARTITIONS` on the embedded broker).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        if replication_factor is None:
            brokers = (await admin.describe_cluster()).get("brokers") or [None]
            replication_factor = min(3, len(brokers))
        wanted = [
            NewTopic(
                name=name,
                num_partitions=partitions or topic.partitions,
                replication_factor=replication_factor,
                topic_configs=_configs(topic),
            )
            for topic in topics
            for name in (topic.name, topic.dlq)
        ]
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def _configs(topic: Topic) -> dict[str, str]:
    configs = {"retention.ms": str(topic.retention_ms)}
    if topic.compacted:
        configs["cleanup.policy"] = "compact"
    return configs


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` now, by partition and offset (no consumer group, nothing committed)."""
    return (await read_topics(bootstrap, [topic]))[topic]


async def read_topics(
    bootstrap: str, topics: list[str]
) -> dict[str, list[ConsumerRecord[bytes, bytes]]]:
    """Every record on each of `topics` now, by partition and offset, read by one consumer (no
    consumer group, nothing committed).

    Reads on past the end offsets the broker reports until nothing more comes: the embedded broker
    reports a partition's end as its last batch's start + 1 (measured on Tansu 0.6).
    """
    found: dict[str, list[ConsumerRecord[bytes, bytes]]] = {topic: [] for topic in topics}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches metadata for every topic
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            return found
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            batch = await consumer.getmany(timeout_ms=1000 if behind else 200)
            if not batch and not behind:
                break
            for tp, items in batch.items():
                found[tp.topic].extend(items)
        return {t: sorted(rs, key=lambda r: (r.partition, r.offset)) for t, rs in found.items()}
    finally:
        await consumer.stop()
