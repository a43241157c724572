"""Fixtures the shared runtime's unit tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.common.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database with every table of the models imported so far."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}")
    await database.create_tables()
    yield database
    await database.dispose()
