"""Store contract suites run on both databases the centre runs on: the `database` fixture is a
fresh SQLite file and a fresh scratch database on the local PostgreSQL (`SWITCHBOARD_TEST_PG`, an
account allowed to create databases), each with every imported model's tables.

Without PostgreSQL a test is skipped, except in CI (`CI` set), where it fails: a missing part
must not pass silently."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest

from switchboard.common.db import Database
from switchboard.common.scratch import create_scratch, drop_scratch
from switchboard.common.settings import Settings

PG_ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def unreachable(error: BaseException) -> NoReturn:
    """Skip a test that needs the local PostgreSQL when it is not there; fail it in CI."""
    message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error!r}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI machines must have it)")
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        try:
            url, name = await create_scratch("store_test", PG_ADMIN_URL)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            unreachable(error)
    db = Database(Settings(var_dir=tmp_path, database_url=url).sqlalchemy_url_for("store"))
    await db.create_tables()
    try:
        yield db
    finally:
        await db.dispose()
        if name is not None:
            await drop_scratch(name, PG_ADMIN_URL)
