"""Rows a batch's handlers will look up one by one, loaded in one query per kind before they run.

Each handler asks for its row by key (`session.get`). For a row not in the session, that is a
round trip, and first a flush of whatever the handlers before it changed (autoflush): a batch of
200 events made 200 flushes and 200 selects. A service's `Subscriptions(prefetch=...)` loads the
batch's rows in one `IN` query; `find` then answers from the session, and for a key known to
have no row, answers None without asking (once: the handler may make the row, which the next
look-up must find). The session holds the loaded rows until it ends (`db.HoldingSession`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, tuple_
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from switchboard.common.db import held

Row = TypeVar("Row", bound=SQLModel)
T = TypeVar("T")
Key = str | tuple[str, ...]
"""A primary key: its value, or the tuple of its columns' values in their declared order."""

_PARAMETERS = 500
"""Bound values per `IN` list (SQLite's default limit is far above; PostgreSQL has none): 500
one-column keys, 250 two-column ones."""


async def load(session: AsyncSession, model: type[Row], keys: Iterable[Key]) -> list[Row]:
    """Load the rows of `model` for `keys` into the session and remember which keys have none.
    Returns the rows found (for a second kind keyed by them)."""
    wanted = list(dict.fromkeys(keys))
    columns = inspect(model).primary_key
    loaded: list[Row] = []
    for keys_now in in_lists(wanted, columns=len(columns)):
        loaded.extend(await session.exec(_by_keys(model), params={"keys": keys_now}))
    session.info[(__name__, model)] = set(wanted) - {_key_of(row, columns) for row in loaded}
    return loaded


def in_lists(keys: Sequence[T], *, columns: int = 1) -> Iterator[Sequence[T]]:
    """`keys` in slices that each fit one `IN` list (`_PARAMETERS` bound values: keys of
    `columns` columns each)."""
    size = _PARAMETERS // columns
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


@functools.cache
def _by_keys(model: type[Row]) -> SelectOfScalar[Row]:
    """`load`'s statement for `model`, prepared once (built anew, its cache key was derived for
    every batch)."""
    columns = inspect(model).primary_key
    matches: Any = tuple_(*columns) if len(columns) > 1 else columns[0]
    return select(model).where(matches.in_(bindparam("keys", expanding=True)))


def _key_of(row: SQLModel, columns: Any) -> Key:
    """The row's primary key as `find` is given it: the value, or the tuple of the values."""
    values = tuple(getattr(row, column.key) for column in columns)
    return values if len(values) > 1 else values[0]


async def find(session: AsyncSession, model: type[Row], key: Key) -> Row | None:
    """The row of `model` with primary key `key`, or None: from what `load` put in the session
    where it can, else from the database."""
    absent: set[Key] | None = session.info.get((__name__, model))
    if absent is not None and key in absent:
        absent.discard(key)
        return None
    row: Row | None = held(session, model, key)
    return row if row is not None else await session.get(model, key)
