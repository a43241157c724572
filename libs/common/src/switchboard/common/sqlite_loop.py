"""SQLite behind SQLAlchemy's asyncio interface, its calls made straight on the event loop's thread.

SQLAlchemy's asyncio layer runs the ORM in a greenlet and leaves it each time the driver has
something to await. An async driver for SQLite adds two layers on top of `sqlite3`, and both were
measured to cost more than the statements themselves:
- aiosqlite hands every call to a thread of its own and wakes the loop when it is done: two thread
  switches, and the worker waits for the GIL, which a busy loop gives up only every switch interval
  (5 ms). A transaction of four inserts and a read by key: 314 a second and 2.7 ms of CPU each
  through the thread, 1,016 a second and 1.0 ms inline (`deploy/CAPACITY.md`, second round);
- inline, SQLAlchemy's adaptor for an async driver still left the greenlet and came back three
  times a statement (the cursor, the execution, the cursor's close), through aiosqlite's wrappers:
  on this machine a prepared UPDATE by key took 175 µs of CPU that way, 75 µs through `sqlite3`
  itself, and an empty write transaction 197 µs against 44 µs (eighth round).

`SQLiteOnTheLoop` is SQLAlchemy's own pysqlite dialect, declared async so that `AsyncEngine` and
`AsyncSession` take it: every call goes to `sqlite3` directly. A statement leaves the greenlet once,
for nothing (`_one_turn`): SQLAlchemy's `AsyncConnection.execute` insists that a statement awaited
something, as a check that the driver is async.

Calling SQLite on the loop's thread is safe for our use because a statement never waits on another
connection: writers take their turn before BEGIN (an asyncio lock within a process, a `flock`
across processes: switchboard.common.db), and WAL readers never wait for a writer. What it gives up
is overlap: a long statement (an export over a large table) holds the loop while it runs, as the
Python work around it would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import MutableMapping, Sequence
from typing import Any

from sqlalchemy import make_url, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVER = "switchboard_loop"
"""The driver name of `SQLiteOnTheLoop` in a database URL (`sqlite+switchboard_loop://`)."""


async def _nothing() -> None:
    return None


def _one_turn() -> None:
    """Leave the greenlet and come straight back, when inside one (see the module's docstring)."""
    if in_greenlet():
        await_(_nothing())


class LoopCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> LoopCursor:
        _one_turn()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> LoopCursor:
        _one_turn()
        return super().executemany(sql, parameters)

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio layer calls this before it hands a result to async code, for a
        driver whose rows must be fetched with an await. A `sqlite3` cursor's rows are read on this
        thread as they are asked for, so there is nothing to do."""


class LoopSQLiteConnection(sqlite3.Connection):
    def cursor(self, factory: Any = LoopCursor) -> Any:
        return super().cursor(factory)


class SQLiteOnTheLoop(SQLiteDialect_pysqlite):
    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        """As the aiosqlite dialect chooses: a pool that waits for a connection by awaiting (not by
        blocking the loop's thread), or one connection for an in-memory database."""
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool

    def create_connect_args(self, url: URL) -> tuple[Sequence[str], MutableMapping[str, Any]]:
        args, options = super().create_connect_args(url)
        options.update(factory=LoopSQLiteConnection, check_same_thread=False)
        return args, options


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteOnTheLoop")


def on_the_loop(url: str) -> URL:
    """`url`, any SQLite URL, made to use `SQLiteOnTheLoop`."""
    return make_url(url).set(drivername=f"sqlite+{DRIVER}")
