"""The migrations are the schema: on SQLite and PostgreSQL they build exactly the tables the models
describe (a model changed without a migration fails here), and they go down as well as up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from switchboard.cli import migrations
from switchboard.cli.scratch import create_database, drop_database
from switchboard.cli.services import import_all_tables
from tests.integration.centres import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
        return
    url, name = create_database(PG_ADMIN_URL, "switchboard_schema")
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        drop_database(PG_ADMIN_URL, name)


async def _differences(url: str) -> list[object]:
    import_all_tables()
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:

            def compare(sync: Connection) -> list[object]:
                context = MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_name": migrations.modelled}
                )
                return list(compare_metadata(context, SQLModel.metadata))

            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    await migrations.upgrade(database_url)
    assert await migrations.current(database_url) == migrations.head()
    assert await _differences(database_url) == [], "a model changed: `make migration MESSAGE=...`"
    assert "catalogue_search" in await _tables(database_url)  # the search index, made by hand


async def test_the_migrations_go_down_and_up_again(database_url: str) -> None:
    await migrations.upgrade(database_url)
    await migrations.downgrade(database_url, "base")
    assert await _tables(database_url) <= {"alembic_version"}
    await migrations.upgrade(database_url)
    assert await _differences(database_url) == []


async def test_a_centres_new_sqlite_files_are_copies_of_the_first_one_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`upgrade_all` migrates one new file and copies it for the others; a file that exists (with
    its rows) is migrated where it is, never replaced by a copy."""
    kept = f"sqlite+aiosqlite:///{tmp_path / 'kept.db'}"
    await migrations.upgrade(kept, "0001")
    engine = create_async_engine(kept, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE operators_note (words TEXT)"))
            await connection.execute(text("INSERT INTO operators_note VALUES ('mine')"))
    finally:
        await engine.dispose()
    new = [f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in ("a", "b", "c")]

    migrated: list[str] = []
    upgrade = migrations.upgrade

    async def counted(url: str, revision: str = "head") -> None:
        migrated.append(url)
        await upgrade(url, revision)

    monkeypatch.setattr(migrations, "upgrade", counted)
    await migrations.upgrade_all([new[0], kept, *new[1:]])
    assert migrated == [new[0], kept], "b and c are copies of a"

    assert await migrations.current(kept) == migrations.head()
    assert "operators_note" in await _tables(kept)
    assert await _differences(new[0]) == []
    copied = (tmp_path / "a.db").read_bytes()
    assert (tmp_path / "b.db").read_bytes() == (tmp_path / "c.db").read_bytes() == copied
