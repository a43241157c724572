"""Transactional outbox: events are written as rows in the same transaction as the effect that
caused them, then relayed to Kafka; a row is deleted only after the broker acknowledged it.

So a change and its events happen together or not at all, and a crash between commit and publish
only delays the events (the relay finds the rows on start). The price is a possible duplicate
publish, which the idempotent consumers absorb.

Rows are relayed in the order they were committed, one producer's rows by one relay at a time (on
PostgreSQL the relay holds an advisory lock; SQLite runs one process per service), which keeps each
key's events in order. On SQLite the relay is handed each transaction's rows as it commits and
sends them from memory (`HandedOver`); otherwise it reads the table, in id order.
The W3C trace context of the transaction that wrote a row travels with it, so the publish span
joins the trace of the request or message that caused it.

No row can stop the ones behind it: one the broker refuses for what it is (over the message limit)
is set aside at once, one that fails for a reason we do not know is set aside after a few rounds
(switchboard.common.setaside), and only a failure of the broker itself (away, timing out) holds the
relay, backing off. `Transaction.emit` refuses an event over `MAX_EVENT_BYTES` before it is stored,
so an oversized event is the emitter's error (a 413, a dead letter), never the relay's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CollectorRegistry
from sqlalchemy import JSON, Column, LargeBinary, delete, func, insert, text
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import setaside, topics
from switchboard.common.db import Database
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.errors import PermanentError

log = structlog.get_logger("switchboard.outbox")

Send = Callable[[str, bytes, bytes, dict[str, str]], Awaitable["asyncio.Future[Any]"]]
"""(topic, key, value, headers) -> a future that resolves when the broker acknowledged."""


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    producer: str = Field(index=True, max_length=64)
    topic: str = Field(max_length=255)
    key: str = Field(max_length=255)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


MAX_EVENT_BYTES = 900 * 1024
"""The largest event value we store: under the producer's 1 MiB request limit with room for the
headers and the record batch around it."""


class EventTooLarge(PermanentError):
    pass


@dataclass(slots=True)
class Outgoing:
    """An event on its way to the broker: an outbox row as a transaction writes it and as the
    relay reads it back (plain values: no ORM object per event, on either side)."""

    topic: str
    key: str
    value: bytes
    headers: dict[str, str]
    id: int | None = None
    """Assigned as the transaction writes it."""


def outgoing(event: Envelope[Any]) -> Outgoing:
    """The row for `event`, carrying the current trace context in its headers; refused when it is
    over `MAX_EVENT_BYTES` (no broker would take it)."""
    headers: dict[str, str] = {
        "content-type": "application/json",
        "event-type": event.event_type,
        "event-id": event.event_id,
        "correlation-id": event.correlation_id,
    }
    propagate.inject(headers)
    value = event.to_bytes()
    if len(value) > MAX_EVENT_BYTES:
        raise EventTooLarge(
            f"{event.event_type} event of {len(value):,} bytes is over the {MAX_EVENT_BYTES:,}-byte"
            " limit of one message"
        )
    return Outgoing(
        topics.for_event_type(event.event_type).name, event.aggregate_id, value, headers
    )


async def write(session: AsyncSession, *, producer: str, rows: list[Outgoing]) -> None:
    """Insert `rows` in the session's transaction with one statement, and give each its id."""
    now = utcnow()
    result = await (await session.connection()).execute(
        _WRITE,
        [
            {
                "producer": producer,
                "topic": row.topic,
                "key": row.key,
                "value": row.value,
                "headers": row.headers,
                "created_at": now,
            }
            for row in rows
        ],
    )
    for row, (row_id,) in zip(rows, result.all(), strict=True):
        row.id = row_id


_WRITE = insert(OutboxMessage).returning(col(OutboxMessage.id), sort_by_parameter_order=True)
"""`write`'s statement, prepared once (built anew, its cache key was derived every time)."""


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        send: Send,
        *,
        producer: str,
        tracer: Tracer,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        on_backlog: Callable[[int], None] | None = None,
        metrics: CollectorRegistry | None = None,
        max_attempts: int = 5,
    ) -> None:
        self._db = db
        self._send = send
        self._producer = producer
        self._tracer = tracer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._on_backlog = on_backlog
        self._attempts = setaside.Attempts(max_attempts)
        self.set_aside = setaside.counter(metrics or CollectorRegistry())
        self._wake = asyncio.Event()
        self.unpublished = 0
        """Rows waiting for the broker, as of the last round (what intake's back-pressure reads)."""
        self._task: asyncio.Task[None] | None = None
        self._leader_conn: AsyncConnection | None = None
        self._handed = HandedOver(enabled=not db.is_postgres)

    def hand_over(self, rows: list[Outgoing]) -> None:
        """Called as a transaction of this process that wrote `rows` commits, before the next
        one may: relay them now, from memory when the relay knows the table holds nothing older."""
        if rows:
            self._handed.add(rows)
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._producer}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):  # the database away: they are sent again on start
            await self._forget_acknowledged()
        if self._leader_conn is not None:
            await self._leader_conn.close()
            self._leader_conn = None

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were acknowledged and deleted.

        A row the broker can never take (over its message limit, say), or one that failed for an
        unknown reason `max_attempts` times, is set aside with the reason instead, so the rows
        behind it flow on. A transient failure (the broker away) leaves the rest for the next
        round, after a back-off."""
        rows = self._handed.take(self._batch_size)
        from_memory = bool(rows)
        if not from_memory:
            await self._forget_acknowledged()
            self._handed.reading()
            rows = await self._read()
            self._handed.read(rows, whole_table=len(rows) < self._batch_size)
        if not rows:
            return 0
        try:
            return await self._publish_rows(rows, from_memory=from_memory)
        except BaseException:
            self._handed.lost()  # what failed stays in the table; the next round reads it
            raise

    async def _read(self) -> list[Outgoing]:
        async with self._db.reader() as session:
            found = await (await session.connection()).execute(
                select_columns(
                    col(OutboxMessage.topic),
                    col(OutboxMessage.key),
                    col(OutboxMessage.value),
                    col(OutboxMessage.headers),
                    col(OutboxMessage.id),
                )
                .where(col(OutboxMessage.producer) == self._producer)
                .order_by(col(OutboxMessage.id))
                .limit(self._batch_size)
            )
            return [Outgoing(*row) for row in found]

    async def _publish_rows(self, rows: list[Outgoing], *, from_memory: bool) -> int:
        results: list[object] = []
        for row in rows:
            try:
                results.append(await self._publish(row))
            except Exception as error:  # refused before it was sent (too large, say)
                results.append(error)
        results = list(
            await asyncio.gather(*(_settled(result) for result in results), return_exceptions=True)
        )
        done = [row.id for row, result in zip(rows, results, strict=True) if not _failed(result)]
        failed = [
            (row, result)
            for row, result in zip(rows, results, strict=True)
            if isinstance(result, BaseException)
        ]
        hopeless = [(row, e) for row, e in failed if self._attempts.failed(str(row.id), e)]
        if from_memory and not failed:
            self._handed.acknowledged(done)
            if self._handed.deletion_due():
                await self._forget_acknowledged()
            return len(done)
        if done or hopeless:
            async with self._db.session() as session:
                if done:
                    await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(done)))
                for row, reason in hopeless:
                    await setaside.set_aside(
                        session,
                        service=self._producer,
                        loop="outbox",
                        ref=str(row.id),
                        error=reason,
                        attempts=self._attempts.count(str(row.id)),
                        row=await session.get(OutboxMessage, row.id),
                    )
            for row, _ in hopeless:
                self._attempts.forget(str(row.id))
                self.set_aside.labels(loop="outbox").inc()
            for row_id in done:
                self._attempts.forget(str(row_id))
        given_up = {row.id for row, _ in hopeless}
        retry = [e for row, e in failed if row.id not in given_up]
        if retry:
            raise retry[0]
        return len(done) + len(hopeless)

    async def backlog(self) -> int:
        async with self._db.reader() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.producer == self._producer)
            )
        return int(count or 0) - self._handed.acknowledged_count

    async def _forget_acknowledged(self) -> None:
        """Delete the rows the broker acknowledged since the last time, in one transaction."""
        done = self._handed.to_delete()
        if done:
            async with self._db.session() as session:
                await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(done)))
            self._handed.deleted(done)

    async def _publish(self, row: Outgoing) -> asyncio.Future[Any]:
        """Send one row; a PRODUCER span, child of the transaction that wrote it, is what the
        consumer's span will continue."""
        headers = dict(row.headers)
        with self._tracer.start_as_current_span(
            f"{row.topic} publish",
            context=propagate.extract(headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "publish",
                "messaging.destination.name": row.topic,
                "messaging.message.id": headers.get("event-id", ""),
            },
        ):
            propagate.inject(headers)
            return await self._send(row.topic, row.key.encode(), row.value, headers)

    async def _is_leader(self) -> bool:
        if not self._db.is_postgres:
            return True
        if self._leader_conn is None:
            self._leader_conn = await self._db.engine.connect()
            key = zlib.crc32(f"outbox:{self._producer}".encode())
            got = await self._leader_conn.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": key}
            )
            await self._leader_conn.commit()
            if not got:
                await self._leader_conn.close()
                self._leader_conn = None
                return False
        return True

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._handed.wait(self._poll_interval))
            self._wake.clear()
            try:
                drained = False
                if await self._is_leader():
                    while await self.relay_once() >= self._batch_size:
                        pass
                    drained = not self._wake.is_set()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox relay failed; will retry", error=repr(error), retry_in=backoff)
                if self._leader_conn is not None:
                    with contextlib.suppress(Exception):
                        await self._leader_conn.close()
                    self._leader_conn = None
                await self._report_backlog()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._wake.set()
                continue
            await self._report_backlog(drained=drained)

    async def _report_backlog(self, *, drained: bool = False) -> None:
        """What is waiting, after every round, failed rounds included. A round that found less
        than a batch and no row written since has left nothing: no need to count."""
        with contextlib.suppress(Exception):  # the database away: the figure keeps its last value
            self.unpublished = 0 if drained else await self.backlog()
            if self._on_backlog is not None:
                self._on_backlog(self.unpublished)


class HandedOver:
    """What a relay knows of its table without reading it (SQLite: one process writes a service's
    rows, so it can be told of each as it commits).

    A row is relayed from memory only while the relay knows the table holds no older row of its
    producer: after a read that found less than a batch (the whole table), every row handed over
    since is newer, in commit order. Anything else (rows written by another process, a send that
    failed, a start with rows left behind) sends the relay back to reading the table, in id order,
    as on PostgreSQL, where other replicas' rows are relayed too and it always reads.

    Rows the broker acknowledged are deleted in one transaction for many rounds (`DELETE_AFTER`,
    `DELETE_AT`) rather than one each: a crash before that sends them again, which the consumers'
    ledgers absorb as they absorb every duplicate publish."""

    DELETE_AFTER = 0.5
    DELETE_AT = 200

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._known = False
        self._rows: deque[Outgoing] = deque()
        """Known: the rows to relay, in commit order. Not known: those handed over since the
        current read of the table began, some of which it may not see."""
        self._acknowledged: list[int] = []
        self._first_acknowledged = 0.0

    def add(self, rows: list[Outgoing]) -> None:
        if self.enabled:
            self._rows.extend(rows)

    def take(self, limit: int) -> list[Outgoing]:
        if not self._known:
            return []
        return [self._rows.popleft() for _ in range(min(limit, len(self._rows)))]

    def reading(self) -> None:
        """A read of the table begins: what was handed over before it, it will see."""
        self._rows.clear()

    def read(self, rows: list[Outgoing], *, whole_table: bool) -> None:
        if not self.enabled:
            return
        seen = {row.id for row in rows}
        self._rows = deque(row for row in self._rows if row.id not in seen)
        self._known = whole_table

    def lost(self) -> None:
        """A round failed: what it took is still in the table, and what followed it is newer."""
        self._known = False
        self._rows.clear()

    def acknowledged(self, ids: list[int | None]) -> None:
        if not self._acknowledged:
            self._first_acknowledged = time.monotonic()
        self._acknowledged.extend(i for i in ids if i is not None)

    @property
    def acknowledged_count(self) -> int:
        return len(self._acknowledged)

    def deletion_due(self) -> bool:
        return bool(self._acknowledged) and (
            len(self._acknowledged) >= self.DELETE_AT
            or time.monotonic() - self._first_acknowledged >= self.DELETE_AFTER
        )

    def to_delete(self) -> list[int]:
        return list(self._acknowledged)

    def deleted(self, ids: list[int]) -> None:
        self._acknowledged = self._acknowledged[len(ids) :]
        if self._acknowledged:
            self._first_acknowledged = time.monotonic()

    def wait(self, poll_interval: float) -> float:
        """How long the relay may sleep: its poll, or until acknowledged rows are due deletion."""
        if not self._acknowledged:
            return poll_interval
        due_in = self._first_acknowledged + self.DELETE_AFTER - time.monotonic()
        return max(0.0, min(poll_interval, due_in))


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)


async def _settled(result: object) -> object:
    """The broker's answer for a sent row, or the error that kept it from being sent."""
    if isinstance(result, BaseException):
        raise result
    return await cast("asyncio.Future[Any]", result)
