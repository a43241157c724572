"""What the shared runtime does to keep per-event costs down, and that it still behaves: SQLite on
the event loop's thread, a batch's rows prefetched and held for the session's life, default
factories asked once, log lines written in batches, a batch loop that does not sleep after an
empty ask and lingers only when behind."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import JSON, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, select

from switchboard.common import prefetch, sqlite_loop, topics
from switchboard.common.db import Database, by_key, held, write_new
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.logging import FLUSH_WITHIN_SECONDS, BatchedStreamHandler
from switchboard.common.model_defaults import takes_validated_data_argument
from switchboard.common.pacing import (
    ASK_WAIT_MS,
    LINGER_BELOW,
    LINGER_MS,
    PROMPT,
    QUIET_WAITS,
    UNHURRIED,
    Pacing,
)
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.common.testing import service_under_test, statements_run


class _Scratch(SQLModel, registry=registry()):
    """Tables of these tests only: kept out of `SQLModel.metadata`, which the migrations must match."""


class Note(_Scratch, table=True):
    __tablename__ = "runtime_costs_note"

    note_id: str = Field(primary_key=True)
    body: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow)


class Handled(_Scratch, table=True):
    """A row with a two-column key (a contact's handling by one agent)."""

    __tablename__ = "runtime_costs_handled"

    contact_id: str = Field(primary_key=True)
    agent_id: str = Field(primary_key=True)


async def _create(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_Scratch.metadata.create_all)


async def test_sqlite_runs_on_the_loop_thread_and_keeps_transactions(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    threads = threading.active_count()
    try:
        async with db.session() as session:
            session.add(Note(note_id="a", body={"k": "v"}))
        with pytest.raises(IntegrityError):  # the driver's errors reach the caller as before
            async with db.session() as session:
                session.add(Note(note_id="b"))
                await session.flush()
                session.add(Note(note_id="a"))
                await session.flush()
        async with db.reader() as session:
            kept = (await session.exec(select(Note.note_id))).all()
        assert kept == ["a"]  # the failed transaction left nothing behind
        assert threading.active_count() == threads  # no worker thread per connection
    finally:
        await db.dispose()


async def test_a_prefetched_batch_is_answered_from_the_session(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    try:
        with statements_run(db.engine) as statements:
            async with db.session() as session:
                session.add(Note(note_id="kept"))
            async with db.session() as session:
                await prefetch.load(session, Note, ["kept", "new", "kept"])
                statements.clear()
                kept = await prefetch.find(session, Note, "kept")
                assert kept is not None and kept.note_id == "kept"
                assert await prefetch.find(session, Note, "new") is None
                assert statements == []  # both answered without a round trip
                session.add(Note(note_id="new"))  # the handler makes the row it did not find
                made = await prefetch.find(session, Note, "new")
                assert made is not None and made.note_id == "new"  # the next look-up finds it
                statements.clear()
                session.expire(kept)  # an expired row is not answered from memory: it is read again
                assert held(session, Note, "kept") is None and statements == []
                assert await prefetch.find(session, Note, "kept") is kept and len(statements) >= 1
                session.add(Handled(contact_id="k-1", agent_id="amy"))
            async with db.session() as session:  # a two-column key, as a tuple
                await prefetch.load(
                    session, Handled, [("k-1", "amy"), ("k-1", "bob"), ("k-2", "amy")]
                )
                statements.clear()
                found = await prefetch.find(session, Handled, ("k-1", "amy"))
                assert found is not None and (found.contact_id, found.agent_id) == ("k-1", "amy")
                assert await prefetch.find(session, Handled, ("k-1", "bob")) is None
                assert await prefetch.find(session, Handled, ("k-2", "amy")) is None
                assert statements == []
    finally:
        await db.dispose()


async def test_a_row_read_and_let_go_is_read_once_per_session(tmp_path: Path) -> None:
    """A handler reads a tenant's row and lets it go; the next event's handler asks again. The
    session holds what it loaded, so the second look-up is answered without a round trip (the
    identity map alone holds an unchanged row weakly, and it would have been collected)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    try:
        with statements_run(db.engine, db.read_engine) as statements:
            async with db.session() as session:
                session.add(Note(note_id="policy", body={"hours": "9-5"}))
            for open_session in (db.session, db.reader):
                async with open_session() as session:
                    statements.clear()
                    for _ in range(3):
                        row = await session.get(Note, "policy")
                        assert row is not None and row.body == {"hours": "9-5"}
                        del row
                        gc.collect()
                    assert len([s for s in statements if s.lstrip().startswith("SELECT")]) == 1
    finally:
        await db.dispose()


async def test_a_sqlite_statement_leaves_the_greenlet_once_and_a_session_needs_no_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's calls go to `sqlite3` itself: a statement steps out of SQLAlchemy's greenlet once
    (the check that the driver awaited something), where the async driver's adaptor stepped out
    three times; and a transaction opens and closes without a task of its own."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    turns: list[object] = []
    step_out = sqlite_loop.await_

    def counted(awaitable: Any) -> Any:
        turns.append(awaitable)
        return step_out(awaitable)

    monkeypatch.setattr(sqlite_loop, "await_", counted)
    tasks: list[object] = []
    loop = asyncio.get_running_loop()
    loop.set_task_factory(
        lambda loop, coro, **kw: tasks.append(coro) or asyncio.Task(coro, loop=loop, **kw)
    )
    try:
        with statements_run(db.engine) as statements:
            async with db.session() as session:
                session.add(Note(note_id="a"))
                await session.flush()
                connection = await session.connection()
                await connection.execute(Note.__table__.update().values(body={"k": "v"}))
            assert statements and len(turns) == len(statements)
            assert tasks == []
    finally:
        loop.set_task_factory(None)
        await db.dispose()


async def test_a_look_up_by_key_is_prepared_once_and_answers_as_the_orms_own(
    tmp_path: Path,
) -> None:
    """`get` of a row the session does not hold runs the table's prepared statement (a key of one
    column or of several); it sees rows the session has not written yet, answers None for a
    missing key, and leaves anything asked of it beyond a plain look-up (`populate_existing`) to
    the ORM."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    ran: list[object] = []
    try:
        async with db.session() as session:
            session.add_all([Note(note_id="a"), Handled(contact_id="k-1", agent_id="amy")])
        async with db.session() as session:
            event.listen(session.sync_session, "do_orm_execute", lambda s: ran.append(s.statement))
            session.add(Note(note_id="unwritten"))
            found = await session.get(Note, "a")
            assert found is not None and found.note_id == "a"
            assert await session.get(Note, "missing") is None
            unwritten = await session.get(Note, "unwritten")
            assert unwritten is not None and unwritten.note_id == "unwritten"
            assert ran == [by_key(Note).statement] * 2  # the unwritten row was held: no query
            handled = await session.get(Handled, ("k-1", "amy"))
            assert handled is not None and handled.agent_id == "amy"
            assert await session.get(Handled, ["k-1", "bob"]) is None
            assert ran[2:] == [by_key(Handled).statement] * 2
            await (await session.connection()).execute(
                Note.__table__.update().values(body={"k": "changed"})
            )
            refreshed = await session.get(Note, "a", populate_existing=True)
            assert refreshed is found and refreshed.body == {"k": "changed"}
            assert len(ran) == 5 and ran[4] is not by_key(Note).statement
    finally:
        await db.dispose()


async def test_new_rows_are_written_at_once_with_their_defaults(tmp_path: Path) -> None:
    """`write_new` inserts rows without the unit of work: after what the session had pending, with
    the defaults the rows were built with, and a row already there is refused at once."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    await _create(db)
    try:
        async with db.session() as session:
            session.add(Note(note_id="pending"))
            await write_new(
                session,
                Note(note_id="a", body={"k": "v"}),
                Handled(contact_id="k", agent_id="amy"),
                Note(note_id="b"),
            )
            held = session.identity_map
            assert session.identity_key(Note, "pending") in held  # written first, and still held
            assert session.identity_key(Note, "a") not in held
            with pytest.raises(IntegrityError):
                async with session.begin_nested():
                    await write_new(session, Note(note_id="a"))
        async with db.reader() as session:
            notes = (await session.exec(select(Note).order_by(Note.note_id))).all()
            handled = await session.get(Handled, ("k", "amy"))
        assert [(n.note_id, n.body) for n in notes] == [
            ("a", {"k": "v"}),
            ("b", {}),
            ("pending", {}),
        ]
        assert all(n.at is not None for n in notes) and handled is not None
    finally:
        await db.dispose()


def test_a_default_factory_is_asked_once_and_rows_still_get_fresh_defaults() -> None:
    first, second = Note(note_id="x"), Note(note_id="y")
    assert first.body == {} and second.body == {}
    assert first.body is not second.body
    assert takes_validated_data_argument(dict) is False
    assert takes_validated_data_argument(lambda data: data) is True


async def test_a_consumed_batch_reaches_its_handlers_without_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastStream resolves a `KafkaMessage` parameter in a worker thread; the consumer does not
    ask for one, and its handlers still get every event."""
    hops: list[object] = []
    to_thread = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    subscriptions = Subscriptions("runtime-costs")
    seen: list[tuple[str, str]] = []

    @subscriptions.on(topics.AGENT_STATE)
    async def on_state(event: Envelope[AgentStateChanged], tx: Transaction) -> None:
        seen.append((event.payload.agent_id, event.payload.state))

    async with service_under_test("runtime-costs", subscriptions, tmp_path) as service:
        for agent, state in (("a-1", "available"), ("a-2", "offline")):
            change = AgentStateChanged(agent_id=agent, state=state)
            await service.deliver(Envelope.first(change, tenant_id="t", aggregate_id=agent))
    assert seen == [("a-1", "available"), ("a-2", "offline")]
    assert hops == []


def test_log_lines_are_gathered_warnings_written_at_once() -> None:
    out = _WritersRecorded()
    logger = logging.getLogger("switchboard.test.batched")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [BatchedStreamHandler(out)]
    logger.info("one")
    logger.info("two")
    assert out.getvalue() == ""  # not yet: gathered
    logger.warning("three")
    assert out.getvalue() == "one\ntwo\nthree\n"  # a warning takes what was gathered with it
    for window in ("four", "five", "six"):  # each gathered line written out in its own window
        logger.info(window)
        deadline = time.monotonic() + 5
        while window not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(FLUSH_WITHIN_SECONDS / 4)
    assert out.getvalue() == "one\ntwo\nthree\nfour\nfive\nsix\n"
    timed = out.writers[1:]  # the warning's write was the logging thread's own
    assert len(timed) == 3 and len(set(timed)) == 1  # one thread wrote every window out


class _WritersRecorded(io.StringIO):
    """A stream that notes which thread made each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writers: list[threading.Thread] = []

    def write(self, text: str) -> int:
        self.writers.append(threading.current_thread())
        return super().write(text)


class _Buffer:
    """A consumer's fetched buffer: answers each ask with what it holds, after `delay` seconds (a
    fetch that had to wait for its records) or at once (records already waiting)."""

    def __init__(self, *batches: dict[str, list[int]], delay: float = 0.0) -> None:
        self.batches = list(batches)
        self.delay = delay
        self.asked: list[tuple[int, int]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[str, list[int]]:
        self.asked.append((timeout_ms, max_records))
        if self.delay and timeout_ms:
            await asyncio.sleep(self.delay)
        return self.batches.pop(0) if self.batches else {}


async def test_the_batch_loop_asks_again_at_once_after_an_empty_ask() -> None:
    subscriber = SimpleNamespace(batch_timeout_ms=ASK_WAIT_MS, max_records=200, consumer=None)
    Pacing(subscriber, broker_holds_fetches=True)
    buffer = _Buffer({}, {"a-0": [1, 2], "b-0": [3]}, delay=0.01)
    started = time.monotonic()
    assert await subscriber.get_msg(buffer) == ()  # nothing: no sleep after it
    assert await subscriber.get_msg(buffer) == (1, 2, 3)  # it waited for them: no linger either
    assert time.monotonic() - started < 0.1
    assert buffer.asked == [(ASK_WAIT_MS, 200), (ASK_WAIT_MS, 200)]


async def test_a_consumer_behind_gathers_a_small_batch_with_what_comes_next() -> None:
    subscriber = SimpleNamespace(batch_timeout_ms=ASK_WAIT_MS, max_records=200, consumer=None)
    Pacing(subscriber, broker_holds_fetches=True)
    waiting = _Buffer({"a-0": [1, 2]}, {"a-0": [3], "b-0": [4]})
    started = time.monotonic()
    assert await subscriber.get_msg(waiting) == (1, 2, 3, 4)
    assert time.monotonic() - started >= LINGER_MS / 1000
    assert waiting.asked == [(ASK_WAIT_MS, 200), (0, 198)]
    large = _Buffer({"a-0": list(range(LINGER_BELOW))}, {"a-0": [-1]})
    assert await subscriber.get_msg(large) == tuple(range(LINGER_BELOW))  # enough: no linger
    assert large.asked == [(ASK_WAIT_MS, 200)]


async def test_an_unhurried_consumer_gathers_a_small_batch_even_when_it_keeps_up() -> None:
    subscriber = SimpleNamespace(batch_timeout_ms=ASK_WAIT_MS, max_records=200, consumer=None)
    Pacing(subscriber, broker_holds_fetches=True, promptness=UNHURRIED)
    kept_up = _Buffer({"a-0": [1]}, {"b-0": [2, 3]}, delay=0.01)  # the first had to be waited for
    started = time.monotonic()
    assert await subscriber.get_msg(kept_up) == (1, 2, 3)
    assert time.monotonic() - started >= UNHURRIED.gather_ms / 1000
    assert kept_up.asked == [(ASK_WAIT_MS, 200), (0, 199)]
    prompt = SimpleNamespace(batch_timeout_ms=ASK_WAIT_MS, max_records=200, consumer=None)
    Pacing(prompt, broker_holds_fetches=True)
    kept_up = _Buffer({"a-0": [1]}, {"b-0": [2, 3]}, delay=0.01)
    assert await prompt.get_msg(kept_up) == (1,)  # a prompt one applies it at once


async def test_an_unhurried_consumer_asks_the_embedded_broker_less_eagerly() -> None:
    subscriber = _consumer_with_fetcher()
    pacing = Pacing(subscriber, broker_holds_fetches=True, promptness=UNHURRIED)
    fetcher = subscriber.consumer._fetcher
    assert fetcher._fetch_max_wait_ms == UNHURRIED.idle_fetch_ms > PROMPT.idle_fetch_ms
    pacing.batch_seen()
    assert fetcher._fetch_max_wait_ms == UNHURRIED.quiet_waits[0][1] > QUIET_WAITS[0][1]
    pacing._to_stage(len(UNHURRIED.quiet_waits) - 1)
    assert fetcher._fetch_max_wait_ms == UNHURRIED.idle_fetch_ms
    assert pacing._next is None


def _consumer_with_fetcher() -> SimpleNamespace:
    fetcher = SimpleNamespace(_fetch_max_wait_ms=0)
    return SimpleNamespace(
        batch_timeout_ms=ASK_WAIT_MS, max_records=200, consumer=SimpleNamespace(_fetcher=fetcher)
    )


async def test_on_the_embedded_broker_the_fetch_wait_grows_with_the_quiet_after_a_batch() -> None:
    subscriber = _consumer_with_fetcher()
    pacing = Pacing(subscriber, broker_holds_fetches=True)
    fetcher = subscriber.consumer._fetcher
    assert fetcher._fetch_max_wait_ms == PROMPT.idle_fetch_ms  # nothing has come yet
    pacing.batch_seen()
    assert fetcher._fetch_max_wait_ms == QUIET_WAITS[0][1]
    seen = [fetcher._fetch_max_wait_ms]
    again = True
    started = time.monotonic()
    while pacing._next is not None and time.monotonic() - started < 10:
        await asyncio.sleep(0.005)
        if fetcher._fetch_max_wait_ms != seen[-1]:
            seen.append(fetcher._fetch_max_wait_ms)
            if again and seen[-1] == QUIET_WAITS[2][1]:
                again = False
                pacing.batch_seen()  # records again: eager at once, then the quiet starts anew
                seen.append(fetcher._fetch_max_wait_ms)
    waits = [wait for _, wait in QUIET_WAITS]
    assert seen == waits[:3] + waits  # each step in order, and back to the start on a batch
    assert pacing._next is None  # idle: no timer left to wake for
    assert time.monotonic() - started >= QUIET_WAITS[-1][0] + QUIET_WAITS[2][0]


async def test_on_kafka_the_fetch_wait_stays_long_since_kafka_answers_a_held_fetch_at_once() -> (
    None
):
    subscriber = _consumer_with_fetcher()
    pacing = Pacing(subscriber, broker_holds_fetches=False)
    pacing.batch_seen()
    await asyncio.sleep(0.05)
    assert subscriber.consumer._fetcher._fetch_max_wait_ms == PROMPT.idle_fetch_ms
    assert pacing._next is None
