"""What happens to consumed messages, whatever their handlers do (at-least-once, never lost).

A batch of records is applied in ONE database transaction: each event claimed in the idempotency
ledger (a redelivered one is skipped), its handler's effect and emitted events written; the offsets
are committed after that transaction commits (in rounds: switchboard.common.commits). If the batch
fails:

    TransientError, a database connection/lock error, a Kafka or socket error
        -> not the messages' fault: wait, then nack (seek back); the whole batch is redelivered
    anything else
        -> the batch is retried one record at a time, each in its own transaction, so one bad
           record cannot hold up the others:
             a value that does not decode or validate, or a PermanentError -> dead-lettered at once
             other failures -> retried up to `max_attempts`, then dead-lettered

A dead letter goes to `<topic>.dlq` with the original value and headers plus `x-dlq-*` headers
(reason, error type, consumer group, source topic/partition/offset, attempts, time); the reason is
redacted of personal details. The source offset is committed only once the broker acknowledged it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import ValidationError

from switchboard.common.compliance.redaction import redact
from switchboard.common.db import is_transient
from switchboard.common.errors import PermanentError, TransientError
from switchboard.common.ids import made_at_ms
from switchboard.common.topics import DLQ_SUFFIX

log = structlog.get_logger("switchboard.consumer")

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
PublishDeadLetter = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[Any]]


def in_produced_order(records: list[Record]) -> list[Record]:
    """A fetched batch holds one partition's records after another's, so a contact's wrap-up on
    one topic may come before its answer on another. Merged by when each record's event happened,
    each partition's own order kept (so each key's): handlers meet a contact's events in the order
    they happened, as when each batch held one record. (A later batch may still bring an earlier
    event, which is why handlers take a contact's events in any order too.)"""
    partitions: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        partitions.setdefault((record.topic, record.partition), []).append(record)
    if len(partitions) < 2:
        return records
    return list(heapq.merge(*partitions.values(), key=_happened))


def _happened(record: Record) -> tuple[int, str]:
    """When the record's event happened: the millisecond its event id (a UUIDv7, made with the
    event) carries, then the id itself, whose counter orders one process's events within a
    millisecond. The Kafka timestamp is the relay's send time, the same for every row it sent
    together: a desktop's transfer and the wrap-up right after it were met in either order, and
    routing then dropped the transfer of a contact already wrapped up. A record with no such id
    (from a channel system, or written by hand) goes by its Kafka timestamp."""
    for name, value in record.headers:
        if name == "event-id":
            event_id = value.decode("ascii", "replace")
            made_at = made_at_ms(event_id)
            if made_at is not None:
                return made_at, event_id
            break
    return record.timestamp, ""


_MESSAGE_ERRORS = (
    MessageSizeTooLargeError | RecordTooLargeError | RecordListTooLargeError | InvalidTopicError
)
"""Kafka's refusals of the message itself: sending it again can never succeed."""


def classify(error: BaseException) -> str:
    """`transient` (the infrastructure's fault: wait and retry), `permanent` (this message can
    never be processed as it is: set it aside at once) or `unknown` (retry a bounded number of
    times, then set it aside)."""
    if isinstance(
        error,
        PermanentError | ValidationError | json.JSONDecodeError | UnicodeError | _MESSAGE_ERRORS,
    ):
        return "permanent"
    if isinstance(error, TransientError | KafkaError | OSError | TimeoutError) or is_transient(
        error
    ):
        return "transient"
    return "unknown"


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "switchboard_messages_handled",
            "Messages handled, by topic and outcome",
            ["topic", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "switchboard_dead_letters",
            "Messages sent to a dead-letter topic",
            ["topic"],
            registry=registry,
        )
        self.retries = Counter(
            "switchboard_consumer_retries",
            "Failed attempts that were retried",
            ["topic", "kind"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "switchboard_handler_seconds",
            "Time a handler takes over one event, by topic",
            ["topic"],
            registry=registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.batch_seconds = Histogram(
            "switchboard_batch_seconds",
            "Time to apply one consumed batch",
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class DeadLetters:
    def __init__(self, *, group: str, publish: PublishDeadLetter, metrics: DeliveryMetrics) -> None:
        self.group = group
        self.publish = publish
        self.metrics = metrics

    async def send(self, record: Record, error: BaseException, attempts: int) -> None:
        headers = {
            **{k: v.decode("utf-8", "replace") for k, v in record.headers or ()},
            "x-dlq-reason": redact(reason(error)),
            "x-dlq-error-type": type(error).__name__,
            "x-dlq-consumer-group": self.group,
            "x-dlq-source-topic": record.topic,
            "x-dlq-source-partition": str(record.partition),
            "x-dlq-source-offset": str(record.offset),
            "x-dlq-attempts": str(attempts),
            "x-dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        await self.publish(record.topic + DLQ_SUFFIX, record.key, record.value or b"", headers)
        self.metrics.dead_letters.labels(topic=record.topic).inc()
        log.error(
            "message dead-lettered",
            reason=headers["x-dlq-reason"],
            attempts=attempts,
            topic=record.topic,
        )


def reason(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
            for e in error.errors()[:5]
        )
        return f"invalid event: {problems}"[:1000]
    return f"{type(error).__name__}: {error}"[:1000]
