"""Throw-away PostgreSQL databases, for test sessions and benchmarks on a server the operator
names (`postgresql://user@host:port/db` of an account allowed to create databases)."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(admin_url: str, prefix: str) -> tuple[str, str]:
    """A new, empty database beside `admin_url`'s: (its URL, its name)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_database(admin_url: str, name: str) -> None:
    """Drop it, even with connections still open."""
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
