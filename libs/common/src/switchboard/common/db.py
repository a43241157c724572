"""Database access, SQLite or PostgreSQL, the same tables on both.

`session()` is a write transaction, `reader()` a read. On SQLite (several service processes share
one file) the two differ:
- a write starts with BEGIN IMMEDIATE: a deferred transaction that later upgrades to the write lock
  fails at once ("database is locked") instead of waiting; IMMEDIATE takes the lock up front;
- writes within one process queue on an asyncio lock, and writers of different processes (a
  service and the tools, `switchboard dlq put-back` or `dnc import`, or a test) on a lock the
  kernel holds (`flock` on `<database>.writer`), which wakes the next writer the moment the last
  one commits; SQLite's own busy handler would have it poll, sleeping up to 100 ms between tries.
  Each service has a file of its own (`Settings.sqlalchemy_url_for`), so its writers rarely meet
  another process's;
- reads run on a separate engine with plain deferred transactions, which in WAL mode never block.

A read, and a write asked for with `snapshot=True`, sees one snapshot from its first statement to
its end: SQLite's transactions always do; on PostgreSQL they run at REPEATABLE READ, since at the
default READ COMMITTED each statement sees the commits made since the one before, and an export
read in several queries could show a change in one table and not yet in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Insert, bindparam, event, insert, inspect, make_url, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.orm.session import Session
from sqlmodel.sql.expression import SelectOfScalar

from switchboard.common import model_defaults
from switchboard.common.envelope import utcnow
from switchboard.common.sqlite_loop import on_the_loop

model_defaults.install()


class ProcessedEvent(SQLModel, table=True):
    """The idempotent-consumer ledger: an event id applied by a consumer group, written in the same
    transaction as the effect, so a redelivered event is recognised and skipped."""

    __tablename__ = "processed_event"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(primary_key=True, max_length=36)
    processed_at: datetime = Field(default_factory=utcnow)


class HoldingSession(Session):
    """A session that holds every row it has loaded or written until it ends, or until the row
    is expunged.

    SQLAlchemy's identity map holds an unchanged row only weakly (its documented "session
    referencing behaviour"): a row a handler read and let go (a tenant's policy, a queue) was
    collected before the next event of the batch asked for it, and that look-up flushed and
    selected again, once per event where the batch needs it once. A session here lives for one
    batch or one request, so what it holds is bounded by what that one read; a read that walks
    more than that a page at a time expunges each page once done with it.

    `get` of a row not yet in the session runs one prepared `SELECT` per table instead of building
    the ORM's look-up anew each time: SQLAlchemy builds that statement and derives its cache key
    on every call, a third of a look-up's CPU (measured in-process on SQLite, 330 → 235 µs). A row
    the session holds is answered directly (`held`)."""

    def get(self, entity: Any, ident: Any, **options: Any) -> Any:
        prepared = by_key(entity)
        values = ident if isinstance(ident, tuple | list) else (ident,)
        if (
            prepared is None
            or any(options.values())
            or len(values) != prepared.columns  # a dict, or not a key of this table
        ):
            return super().get(entity, ident, **options)
        if (row := held(self, entity, ident)) is not None:
            return row
        parameters = {f"key_{i}": value for i, value in enumerate(values)}
        return self.exec(prepared.statement, params=parameters).one_or_none()


def held(session: Session | AsyncSession, entity: Any, ident: Any) -> Any:
    """The row of `entity` with key `ident` that the session holds, unexpired, or None: what the
    ORM's `get` answers without a query, without its way there (an awaited `get` that found it
    held cost 25 µs of CPU, this 2.5, measured in-process; a batch's handlers look up what its
    prefetch loaded several times an event). An expired row is None: `get` loads it again."""
    row = session.identity_map.get(session.identity_key(entity, ident))
    return None if row is None or instance_state(row).expired else row


class ByKey(NamedTuple):
    statement: SelectOfScalar[Any]
    columns: int
    """How many columns the key has."""


@functools.cache
def by_key(entity: Any) -> ByKey | None:
    """A mapped class's prepared look-up by its primary key (None: not a class)."""
    if not isinstance(entity, type):
        return None
    key: tuple[Any, ...] = inspect(entity).primary_key
    where = (column == bindparam(f"key_{i}") for i, column in enumerate(key))
    return ByKey(select(entity).where(*where), len(key))


def _held(session: Session) -> dict[int, object]:
    held: dict[int, object] = session.info.setdefault(HoldingSession, {})
    return held


@event.listens_for(HoldingSession, "loaded_as_persistent")
@event.listens_for(HoldingSession, "pending_to_persistent")
@event.listens_for(HoldingSession, "detached_to_persistent")
def _hold(session: Session, instance: object) -> None:
    _held(session)[id(instance)] = instance


@event.listens_for(HoldingSession, "persistent_to_detached")
@event.listens_for(HoldingSession, "deleted_to_detached")
def _let_go(session: Session, instance: object) -> None:
    _held(session).pop(id(instance), None)


WRITER_WAIT_SECONDS = 30.0
"""How long a writer waits for another process's write to end (SQLite's busy timeout, too)."""


def make_engine(url: str, *, writer: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            on_the_loop(url), connect_args={"timeout": WRITER_WAIT_SECONDS}
        )
        _sqlite_discipline(engine.sync_engine, begin="BEGIN IMMEDIATE" if writer else "BEGIN")
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_discipline(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(WRITER_WAIT_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        _plain_execute(conn, begin)


def _plain_execute(connection: Connection, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    """The rows of `sql` run through a plain `sqlite3` cursor on `connection`'s own SQLite
    connection: for the runtime's statements on every transaction (its BEGIN, the ledger's claim).
    Through SQLAlchemy's execution (an execution context, its events and result) each cost several
    times the statement, and they need no step out of SQLAlchemy's greenlet
    (switchboard.common.sqlite_loop).

    A failure reaches the caller as SQLAlchemy's own exception, as the statement's would have
    through SQLAlchemy, so that `is_transient` reads it the same: a BEGIN IMMEDIATE that found the
    file locked past the busy timeout is the infrastructure's, waited out and never set aside."""
    cursor = sqlite3.Cursor(cast(sqlite3.Connection, connection.connection.dbapi_connection))
    try:
        return cursor.execute(sql, parameters).fetchall()
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, parameters, error, sqlite3.Error) from error
    finally:
        cursor.close()


class WriterLock:
    """One SQLite writer at a time across the processes sharing a file: an exclusive `flock` on a
    file beside it, taken before BEGIN IMMEDIATE and released after COMMIT. The kernel hands it to
    a waiter as soon as it is released, and releases it when its holder dies."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    async def acquire(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(
            None, fcntl.flock, self._fd, fcntl.LOCK_EX
        )
        try:
            await asyncio.wait_for(asyncio.shield(waiting), WRITER_WAIT_SECONDS)
        except (asyncio.CancelledError, TimeoutError) as stopped:
            waiting.add_done_callback(self._give_back)
            if isinstance(stopped, TimeoutError):
                raise OperationalError(
                    "BEGIN", None, Exception("database is locked by another process's write")
                ) from None
            raise

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _give_back(self, waited: asyncio.Future[None]) -> None:
        """The waiter gave up but its thread still waits: when it gets the lock, release it."""
        if not waited.cancelled() and waited.exception() is None:
            self.release()

    def close(self) -> None:
        os.close(self._fd)


class Database:
    """The process's engine and its sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sqlite = url.startswith("sqlite")
        self._snapshot_engine = (
            self.engine
            if self._sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self.read_engine = make_engine(url, writer=False) if self._sqlite else self._snapshot_engine
        self._write_turn = asyncio.Lock() if self._sqlite else None
        file = _sqlite_file(url)
        self._writer_lock = WriterLock(file.with_name(file.name + ".writer")) if file else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def create_tables(self) -> None:
        """Create the tables of every model imported in this process (a service imports its own)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    @asynccontextmanager
    async def session(self, *, snapshot: bool = False) -> AsyncIterator[AsyncSession]:
        """A write transaction: commits on normal exit, rolls back on an exception. `snapshot` is
        for one that mostly reads several tables and must see them as of one moment; keep its
        writes to inserts, as an update racing another would fail with a serialization error."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_turn is not None:
                await stack.enter_async_context(self._write_turn)
            if self._writer_lock is not None:
                await self._writer_lock.acquire()
                stack.callback(self._writer_lock.release)
            committed: list[Callable[[], object]] = []
            stack.push(_then(committed))  # after the commit below, before the turn is given up
            engine = self._snapshot_engine if snapshot else self.engine
            session = await stack.enter_async_context(self._opened(engine))
            session.info[_COMMITTED] = committed
            await stack.enter_async_context(session.begin())
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A read-only session, one snapshot throughout; it never waits for writers."""
        async with self._opened(self.read_engine) as session:
            yield session

    @asynccontextmanager
    async def _opened(self, engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
        """A session, closed at the end. An async driver's close awaits the database, and
        `AsyncSession`'s own exit runs it in a task of its own so that a cancellation cannot cut it
        short; on SQLite the close never leaves the loop's thread (switchboard.common.sqlite_loop),
        so it is called directly: the task cost each transaction a pass of the event loop and
        about 40 µs of CPU (measured in-process, eighth round)."""
        session = AsyncSession(engine, expire_on_commit=False, sync_session_class=HoldingSession)
        if not self._sqlite:
            async with session:
                yield session
            return
        try:
            yield session
        finally:
            await session.close()

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sqlite:  # on PostgreSQL the read engine shares the writer's pool
            await self.read_engine.dispose()
        if self._writer_lock is not None:
            self._writer_lock.close()
            self._writer_lock = None


async def written(session: AsyncSession) -> AsyncConnection:
    """The session's connection, once what the session holds unwritten is written: for a prepared
    statement run on it directly, which the ORM would otherwise have preceded with that flush. A
    statement built anew through the ORM each time cost two to three times its execution (measured
    in-process on SQLite, eighth round)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


async def write_new(session: AsyncSession, *rows: SQLModel) -> None:
    """Insert new rows at once, each table's with its prepared INSERT, instead of adding them to the
    session for its unit of work to write at the next flush (which cost about 190 µs of CPU a row
    more, measured in-process on SQLite, eighth round). The rows are built as usual (validated,
    their defaults made), are in the database when this returns, and are not held by the session:
    a later look-up reads them back. A row that is already there raises `IntegrityError` here."""
    connection = await written(session)
    for model, same_kind in itertools.groupby(rows, type):
        await connection.execute(_insert(model), [row.model_dump() for row in same_kind])


@functools.cache
def _insert(model: type[SQLModel]) -> Insert:
    return insert(model)


_COMMITTED = "switchboard.committed"


def on_commit(session: AsyncSession, then: Callable[[], object]) -> None:
    """Call `then` once this write transaction has committed (never if it rolls back), before the
    process's next writer may begin: what follows one commit happens before the next one's."""
    session.info[_COMMITTED].append(then)


def _then(committed: list[Callable[[], object]]) -> Callable[..., bool]:
    def exit_(exc_type: type[BaseException] | None, *_: object) -> bool:
        if exc_type is None:
            for then in committed:
                then()
        return False

    return exit_


Gathered = TypeVar("Gathered")


def per_session(session: AsyncSession, kind: Callable[[AsyncSession], Gathered]) -> Gathered:
    """The one `kind` this session holds, made on first use: what a transaction gathers over a
    batch to write at its end (`Transaction.before_commit`)."""
    held = session.info.get(kind)
    if held is None:
        held = session.info[kind] = kind(session)
    return cast(Gathered, held)


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for an in-memory database or another engine)."""
    if not url.startswith("sqlite"):
        return None
    path = make_url(url).database
    return Path(path) if path and path != ":memory:" else None


async def claim_new(session: AsyncSession, *, consumer: str, events: list[Any]) -> list[Any]:
    """Of `events` (envelopes), those `consumer` has not applied, each once, now claimed in the
    caller's transaction: one `INSERT ... ON CONFLICT DO NOTHING RETURNING` for the whole batch,
    which answers with the ids it inserted (the ones not yet in the ledger)."""
    first: dict[str, Any] = {}
    for envelope in events:  # a batch holding an event twice applies it where it first comes
        first.setdefault(envelope.event_id, envelope)
    unique = list(first.values())
    if not unique:
        return []
    connection = await session.connection()
    now = utcnow()
    if connection.dialect.name == "sqlite":
        claimed = _claimed_on_sqlite(connection, consumer, [e.event_id for e in unique], now)
    else:
        rows = [{"consumer": consumer, "event_id": e.event_id, "processed_at": now} for e in unique]
        claimed = set((await connection.execute(_CLAIM_ON_POSTGRESQL, rows)).scalars())
    return [event for event in unique if event.event_id in claimed]


def _claimed_on_sqlite(
    connection: AsyncConnection, consumer: str, event_ids: list[str], now: datetime
) -> set[str]:
    """The claim on SQLite, sent to `sqlite3` itself on the transaction's connection (its BEGIN
    IMMEDIATE already sent: `session.connection()` began it). Through SQLAlchemy the one statement
    cost about 175 µs of CPU, ten times its execution, and every batch of every consumer sends it
    (`deploy/CAPACITY.md`, the tenth round)."""
    sql = _sqlite_claim(len(event_ids))
    at = _sqlite_datetime(connection.dialect)(now)
    parameters = [value for event_id in event_ids for value in (consumer, event_id, at)]
    began = connection.sync_connection
    assert began is not None  # the session's connection, its transaction begun
    return {row[0] for row in _plain_execute(began, sql, parameters)}


@functools.cache
def _sqlite_claim(rows: int) -> str:
    values = ", ".join(["(?, ?, ?)"] * rows)
    return (
        f"INSERT INTO {ProcessedEvent.__tablename__} (consumer, event_id, processed_at) "
        f"VALUES {values} ON CONFLICT DO NOTHING RETURNING event_id"
    )


@functools.cache
def _sqlite_datetime(dialect: Any) -> Callable[[datetime], Any]:
    """How SQLAlchemy writes the ledger's `processed_at` on SQLite (its DATETIME's text form)."""
    column_type = ProcessedEvent.__table__.c.processed_at.type  # type: ignore[attr-defined]
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


_CLAIM_ON_POSTGRESQL = (
    postgresql.insert(ProcessedEvent)
    .on_conflict_do_nothing()
    .returning(col(ProcessedEvent.event_id))
)
"""`claim_new`'s statement on PostgreSQL, prepared once (built anew, its cache key was derived on
every batch)."""


# SQLite reports schema mistakes with the same exception class as a busy database; they will not
# go away by waiting.
_SCHEMA_MISTAKES = ("no such table", "no such column", "has no column", "syntax error")


def is_transient(error: BaseException) -> bool:
    """A database failure that is the infrastructure's, not the message's: retry, never dead-letter."""
    if isinstance(error, OperationalError):
        return not any(mistake in str(error.orig).lower() for mistake in _SCHEMA_MISTAKES)
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
