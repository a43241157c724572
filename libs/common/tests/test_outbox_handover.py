"""The relay told of each commit (SQLite): rows go to the broker from memory, in commit order,
without reading the table back, as long as the relay knows the table holds nothing older; anything
it was not told of, or a send that failed, sends it back to reading the table."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from opentelemetry import trace
from sqlmodel import select

from switchboard.common import outbox
from switchboard.common.db import Database, on_commit
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import ContactWrapped
from switchboard.common.outbox import HandedOver, OutboxMessage, OutboxRelay, Outgoing
from switchboard.common.runtime import Transaction


class Broker:
    """Acknowledges what it is sent, except the keys in `away` (a connection error)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.away: set[str] = set()

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if key.decode() in self.away:
            future.set_exception(KafkaConnectionError())
        else:
            self.sent.append(key.decode())
            future.set_result(None)
        return future


class CountingRelay(OutboxRelay):
    reads = 0

    async def _read(self) -> list[Outgoing]:
        self.reads += 1
        return await super()._read()


def _relay(db: Database, broker: Broker) -> CountingRelay:
    return CountingRelay(db, broker.send, producer="desktop", tracer=trace.get_tracer("test"))


def _row(key: str) -> Outgoing:
    return Outgoing(topic="contact.wrapped", key=key, value=b"{}", headers={})


async def _commit(db: Database, relay: OutboxRelay | None, *keys: str) -> None:
    """Rows written in one transaction; the relay, when given, is told as it commits (as the
    runtime's transactions tell it)."""
    async with db.session() as session:
        rows = [_row(key) for key in keys]
        await outbox.write(session, producer="desktop", rows=rows)
        if relay is not None:
            on_commit(session, lambda: relay.hand_over(rows))


async def _in_table(db: Database) -> list[str]:
    async with db.reader() as session:
        return [row.key for row in await session.exec(select(OutboxMessage))]


async def test_rows_committed_after_a_whole_read_go_from_memory_in_commit_order(
    db: Database,
) -> None:
    broker = Broker()
    relay = _relay(db, broker)
    await _commit(db, None, "left-behind")  # before a restart, say
    assert await relay.relay_once() == 1 and relay.reads == 1

    await _commit(db, relay, "a1", "a2")
    await _commit(db, relay, "b1")
    assert await relay.relay_once() == 3

    assert broker.sent == ["left-behind", "a1", "a2", "b1"]
    assert relay.reads == 1  # nothing read back
    assert await _in_table(db) == ["a1", "a2", "b1"]  # acknowledged, deleted together later
    assert await relay.backlog() == 0
    await relay.stop()
    assert await _in_table(db) == []


async def test_acknowledged_rows_are_deleted_together_once_there_are_enough(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HandedOver, "DELETE_AFTER", 3600.0)  # only the count decides here
    broker = Broker()
    relay = _relay(db, broker)
    await relay.relay_once()
    for n in range(HandedOver.DELETE_AT):
        assert len(await _in_table(db)) == n  # sent, acknowledged, not deleted yet
        await _commit(db, relay, f"k{n}")
        await relay.relay_once()
    assert len(broker.sent) == HandedOver.DELETE_AT
    assert await _in_table(db) == []


async def test_acknowledged_rows_are_deleted_once_the_oldest_has_waited_long_enough(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HandedOver, "DELETE_AFTER", 0.0)
    broker = Broker()
    relay = _relay(db, broker)
    await relay.relay_once()
    await _commit(db, relay, "k")
    assert await relay.relay_once() == 1
    assert await _in_table(db) == []


async def test_a_row_the_relay_was_not_told_of_is_found_by_the_next_read(db: Database) -> None:
    broker = Broker()
    relay = _relay(db, broker)
    await relay.relay_once()
    await _commit(db, None, "put-back")  # `switchboard dlq put-back`, from another process
    await _commit(db, relay, "new")
    assert await relay.relay_once() == 1
    assert await relay.relay_once() == 1  # nothing more in memory: the table is read
    assert broker.sent == ["new", "put-back"]
    assert relay.reads == 2


async def test_a_failed_send_goes_back_to_reading_the_table_and_loses_nothing(
    db: Database,
) -> None:
    broker = Broker()
    relay = _relay(db, broker)
    await relay.relay_once()
    broker.away = {"a"}
    await _commit(db, relay, "a")
    with pytest.raises(KafkaConnectionError):
        await relay.relay_once()
    await _commit(db, relay, "b")
    broker.away.clear()

    assert await relay.relay_once() == 2  # read from the table, in id order
    assert broker.sent == ["a", "b"]
    assert relay.reads == 2
    await _commit(db, relay, "c")
    assert await relay.relay_once() == 1 and relay.reads == 2  # known again: from memory
    assert broker.sent == ["a", "b", "c"]


async def test_an_event_emitted_inside_a_savepoint_is_refused(db: Database) -> None:
    """Its row is written as the transaction ends: a savepoint rolled back before then could not
    take it back."""
    async with db.session() as session:
        tx = Transaction(session, consumer="desktop", producer="desktop")
        wrapped = ContactWrapped(agent_id="a1", disposition="resolved")
        async with session.begin_nested():
            with pytest.raises(RuntimeError, match="savepoint"):
                await tx.emit(Envelope.first(wrapped, tenant_id="acme", aggregate_id="c1"))
        assert tx.emitted == []


async def test_a_rolled_back_transaction_hands_nothing_over(db: Database) -> None:
    broker = Broker()
    relay = _relay(db, broker)
    await relay.relay_once()
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            rows = [_row("never")]
            await outbox.write(session, producer="desktop", rows=rows)
            on_commit(session, lambda: relay.hand_over(rows))
            raise RuntimeError("handler failed")
    assert await relay.relay_once() == 0
    assert broker.sent == [] and await _in_table(db) == []


async def test_on_postgresql_the_relay_always_reads_the_table() -> None:
    handed = HandedOver(enabled=False)
    handed.read([], whole_table=True)
    handed.add([_row("a")])
    assert handed.take(10) == []
