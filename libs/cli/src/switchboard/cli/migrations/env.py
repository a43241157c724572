"""Alembic's environment: the models of every service, on the connection the caller gives (see
`switchboard.cli.migrations`), or, for `alembic` run by hand, a connection of its own."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from switchboard.cli.migrations import modelled
from switchboard.cli.services import import_all_tables

import_all_tables()
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=modelled,
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_own() -> None:
    engine = create_async_engine(
        context.config.get_main_option("sqlalchemy.url") or "", poolclass=NullPool
    )
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_own())
