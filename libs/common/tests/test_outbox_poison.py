"""The outbox relay on a real SQLite database: a row that can never be published is set aside with
its reason and the rows behind it flow on; a broker that is away holds the relay and loses nothing;
a set-aside row can be put back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from opentelemetry import trace
from sqlmodel import select

from switchboard.common import setaside
from switchboard.common.db import Database
from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived
from switchboard.common.outbox import EventTooLarge, OutboxMessage, OutboxRelay, outgoing


class Broker:
    """Acknowledges what it is sent, except what `refuse` says to refuse (raised as `send` raises
    it: before sending for what is too large, through the future for the rest)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.refuse: dict[str, BaseException] = {}

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        error = self.refuse.get(key.decode())
        if isinstance(error, MessageSizeTooLargeError):
            raise error
        if error is not None:
            future.set_exception(error)
        else:
            self.sent.append(key.decode())
            future.set_result(None)
        return future


async def _rows(db: Database, *keys: str) -> None:
    async with db.session() as session:
        for key in keys:
            session.add(
                OutboxMessage(
                    producer="intake",
                    topic="contact.received",
                    key=key,
                    value=b'{"k": "%s"}' % key.encode(),
                    headers={"event-id": key},
                )
            )


def _relay(db: Database, broker: Broker, backlog: list[int]) -> OutboxRelay:
    return OutboxRelay(
        db,
        broker.send,
        producer="intake",
        tracer=trace.get_tracer("test"),
        on_backlog=backlog.append,
        max_attempts=3,
    )


async def _held(db: Database) -> list[setaside.SetAside]:
    async with db.reader() as session:
        return await setaside.listed(session)


async def _waiting(db: Database) -> list[str]:
    async with db.reader() as session:
        return [row.key for row in await session.exec(select(OutboxMessage))]


async def test_a_row_over_the_message_limit_is_set_aside_and_the_rows_behind_it_are_sent(
    db: Database,
) -> None:
    broker, backlog = Broker(), []
    broker.refuse["huge"] = MessageSizeTooLargeError("1,100,000 bytes")
    await _rows(db, "a", "huge", "b")

    assert await _relay(db, broker, backlog).relay_once() == 3

    assert broker.sent == ["a", "b"]
    assert await _waiting(db) == []
    [held] = await _held(db)
    assert (held.service, held.loop, held.attempts) == ("intake", "outbox", 1)
    assert held.reason.startswith("MessageSizeTooLargeError")
    assert held.row is not None and held.row["key"] == "huge"


async def test_a_row_failing_for_an_unknown_reason_is_retried_then_set_aside(db: Database) -> None:
    broker, backlog = Broker(), []
    broker.refuse["odd"] = RuntimeError("the serializer fell over")
    await _rows(db, "odd", "next")
    relay = _relay(db, broker, backlog)

    for _ in range(2):
        with pytest.raises(RuntimeError):
            await relay.relay_once()
    assert broker.sent == ["next"]  # not held up behind the failing row
    assert await _waiting(db) == ["odd"] and await _held(db) == []
    assert await relay.relay_once() == 1  # the third failure gives up on it
    [held] = await _held(db)
    assert held.attempts == 3 and "serializer fell over" in held.reason


async def test_a_broker_that_is_away_holds_the_relay_and_loses_nothing(db: Database) -> None:
    broker, backlog = Broker(), []
    broker.refuse = {"a": KafkaConnectionError(), "b": KafkaConnectionError()}
    await _rows(db, "a", "b")
    relay = _relay(db, broker, backlog)

    for _ in range(10):
        with pytest.raises(KafkaConnectionError):
            await relay.relay_once()
    assert await _held(db) == [] and sorted(await _waiting(db)) == ["a", "b"]
    broker.refuse.clear()
    assert await relay.relay_once() == 2 and broker.sent == ["a", "b"]


async def test_the_backlog_gauge_is_true_after_a_failed_round(db: Database) -> None:
    broker, reported = Broker(), asyncio.Event()
    backlog: list[int] = []
    broker.refuse = {"a": KafkaConnectionError()}
    await _rows(db, "a")

    def report(count: int) -> None:
        backlog.append(count)
        reported.set()

    relay = OutboxRelay(
        db, broker.send, producer="intake", tracer=trace.get_tracer("test"), on_backlog=report
    )
    await relay.start()
    try:
        await asyncio.wait_for(reported.wait(), 10)
    finally:
        await relay.stop()
    assert backlog == [1]


async def test_a_set_aside_row_put_back_is_relayed(db: Database) -> None:
    broker, backlog = Broker(), []
    broker.refuse["huge"] = MessageSizeTooLargeError()
    await _rows(db, "huge")
    relay = _relay(db, broker, backlog)
    await relay.relay_once()
    [held] = await _held(db)

    broker.refuse.clear()  # the broker's limit raised, say
    async with db.session() as session:
        assert await setaside.put_back(session, [held.id or 0]) == 1
    assert await _held(db) == [] and await _waiting(db) == ["huge"]
    assert await relay.relay_once() == 1 and broker.sent == ["huge"]


def test_an_event_over_the_limit_is_refused_before_it_is_stored() -> None:
    event = Envelope.first(
        ContactReceived.model_validate(
            {
                "channel": "email",
                "conversation_id": "c",
                "received_at": "2026-12-01T00:00:00Z",
                "destination": "d",
                "external_id": "x",
                "customer": {},
                "text": "\u0001" * 200_000,
            }
        ),
        tenant_id="acme",
        aggregate_id="c1",
        contact_id="c1",
    )
    with pytest.raises(EventTooLarge, match="over the"):
        outgoing(event)
