"""SQLite calls made on the event loop's own thread, behind aiosqlite's interface.

aiosqlite hands every call (each statement, fetch, commit and rollback) to a thread of its own and
wakes the loop when it is done. Under load that hop costs more than the statement: two thread
switches, and the worker waits for the GIL, which a busy loop gives up only every switch interval
(5 ms). Measured here, a transaction of four inserts and a read by primary key: 314 a second and
2.7 ms of CPU each through the thread, 1,016 a second and 1.0 ms inline.

Inline is safe for our use because a statement never waits on another connection: writers take
their turn before BEGIN (an asyncio lock within a process, a `flock` across processes:
switchboard.common.db), and WAL readers never wait for a writer. What it gives up is overlap: a
long statement (an export over a large table) holds the loop while it runs, as the Python work
around it would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: runs each call as it is put."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (the event loop's): the
    worker thread is never started. SQLAlchemy's aiosqlite dialect also puts calls on the queue
    directly (setting the isolation level), which `_RunNow` serves the same way."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()


def loop_connector(database: str, *, timeout: float) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect: connections to `database` (a file
    path, or ":memory:") whose calls run on the event loop."""

    async def connect() -> LoopConnection:
        connector = partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False)
        connection = LoopConnection(connector)
        await connection._connect()
        return connection

    return connect
