"""Transactional outbox: events are written as rows in the same transaction as the effect that
caused them, then relayed to Kafka; a row is deleted only after the broker acknowledged it.

So a change and its events happen together or not at all, and a crash between commit and publish
only delays the events (the relay finds the rows on start). The price is a possible duplicate
publish, which the idempotent consumers absorb.

Rows are relayed in id order, one producer's rows by one relay at a time (on PostgreSQL the relay
holds an advisory lock; SQLite runs one process per service), which keeps each key's events in order.
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
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, cast

import structlog
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CollectorRegistry
from sqlalchemy import JSON, Column, LargeBinary, delete, func, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel, col, select

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


def outbox_row(event: Envelope[Any], *, producer: str) -> OutboxMessage:
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
    return OutboxMessage(
        producer=producer,
        topic=topics.for_event_type(event.event_type).name,
        key=event.aggregate_id,
        value=value,
        headers=headers,
    )


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

    def wake(self) -> None:
        """Called after a transaction that wrote rows commits: relay them now, not at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._producer}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._leader_conn is not None:
            await self._leader_conn.close()
            self._leader_conn = None

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were acknowledged and deleted.

        A row the broker can never take (over its message limit, say), or one that failed for an
        unknown reason `max_attempts` times, is set aside with the reason instead, so the rows
        behind it flow on. A transient failure (the broker away) leaves the rest for the next
        round, after a back-off."""
        async with self._db.reader() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.producer == self._producer)
                    .order_by(col(OutboxMessage.id))
                    .limit(self._batch_size)
                )
            ).all()
        if not rows:
            return 0
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
                        row=await session.merge(row),
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
        return int(count or 0)

    async def _publish(self, row: OutboxMessage) -> asyncio.Future[Any]:
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
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
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


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)


async def _settled(result: object) -> object:
    """The broker's answer for a sent row, or the error that kept it from being sent."""
    if isinstance(result, BaseException):
        raise result
    return await cast("asyncio.Future[Any]", result)
