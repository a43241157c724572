"""The database schema's migrations (alembic): one history for every service's tables, run once
by `switchboard migrate` (which `seed` and `up` call) before the services start. A service started
on its own (`switchboard service NAME`, as a container) waits until the schema is at the head it
was built with, so a deploy runs the migration first (a one-shot job) and never has two processes
racing to alter the same table.

`make migration MESSAGE="..."` writes the next revision from the difference between the models and
a database at head; tests/test_migrations.py fails when a model changed without one.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

LOCATION = Path(str(files("switchboard.cli") / "migrations"))
UNMODELLED = ("catalogue_search",)
"""Tables a migration makes by hand for one database kind (the catalogue's full-text index: an
FTS5 virtual table and its shadow tables on SQLite, a `tsvector` table on PostgreSQL)."""


def modelled(name: str | None, kind: str, _parents: object) -> bool:
    """Whether alembic compares this object with the models (`include_name`)."""
    return not (kind == "table" and name is not None and name.startswith(UNMODELLED))


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(LOCATION))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str | None:
    return ScriptDirectory.from_config(config("")).get_current_head()


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` (an async SQLAlchemy URL) to `revision`."""
    await _with_connection(url, lambda conn: _command(conn, url, "upgrade", revision))


async def upgrade_all(urls: list[str]) -> None:
    """Bring every database at `urls` to head. A SQLite database that does not exist yet is a copy
    of the first one migrated from nothing: each runs the same history to the same schema, and
    running it on each of a centre's eight files took 3 s of a first start's 4 s seed."""
    fresh: Path | None = None
    for url in urls:
        path = _new_sqlite_file(url)
        if path is not None and fresh is not None:
            shutil.copyfile(fresh, path)
            continue
        await upgrade(url)
        if path is not None and _self_contained(path):
            fresh = path


def _new_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database that does not exist yet (None: PostgreSQL, or it exists)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _self_contained(path: Path) -> bool:
    """Whether the database is all in its file (no write-ahead log left beside it to copy)."""
    return not Path(f"{path}-wal").exists()


async def downgrade(url: str, revision: str) -> None:
    await _with_connection(url, lambda conn: _command(conn, url, "downgrade", revision))


async def current(url: str) -> str | None:
    """The revision the database is at (None: not migrated at all)."""
    found: list[str | None] = []
    await _with_connection(
        url, lambda conn: found.append(MigrationContext.configure(conn).get_current_revision())
    )
    return found[0]


def wait_until_current(url: str, *, timeout: float = 300.0) -> None:
    """Block until the database at `url` is at this build's head (the migration job runs first)."""
    wanted, deadline = head(), time.monotonic() + timeout
    while True:
        try:
            at = asyncio.run(current(url))
        except Exception as error:  # the database not reachable yet
            at = f"unreachable ({error.__class__.__name__})"
        if at == wanted:
            return
        if time.monotonic() > deadline:
            raise SystemExit(
                f"the database schema is at {at}, this build needs {wanted}: "
                "run `switchboard migrate` first"
            )
        time.sleep(1.0)


def _command(connection: Connection, url: str, name: str, revision: str) -> None:
    cfg = config(url)
    cfg.attributes["connection"] = connection
    getattr(command, name)(cfg, revision)


async def _with_connection(url: str, work: object) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(work)  # type: ignore[arg-type]
    finally:
        await engine.dispose()
