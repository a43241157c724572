"""A read sees one snapshot: a commit made while it runs shows in none of its later statements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.cli.scratch import drop_database
from switchboard.common.db import Database, ProcessedEvent
from tests.integration.centres import PG_ADMIN_URL, postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'snapshot.db'}"
        return
    url, name = postgres_database()
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        drop_database(PG_ADMIN_URL, name)


async def _seen(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(ProcessedEvent))).one()


async def _record(db: Database, event_id: str) -> None:
    async with db.session() as session:
        session.add(ProcessedEvent(consumer="test", event_id=event_id))


def test_a_reader_and_a_snapshot_session_do_not_see_commits_made_after_their_first_read(
    database_url: str,
) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        try:
            await db.create_tables()
            await _record(db, "first")
            async with db.reader() as session:
                assert await _seen(session) == 1
                await _record(db, "second")
                assert await _seen(session) == 1
            async with contextlib.AsyncExitStack() as stack:
                session = await stack.enter_async_context(db.session(snapshot=True))
                assert await _seen(session) == 2
                if not db.is_postgres:
                    return  # SQLite's write transaction holds the lock: nobody commits meanwhile
                await _record(db, "third")
                assert await _seen(session) == 2
            async with db.reader() as session:
                assert await _seen(session) == 3
        finally:
            await db.dispose()

    asyncio.run(scenario())
