"""Throw-away PostgreSQL databases, for test sessions and benchmarks on a server the operator
names (`postgresql://user@host:port/db` of an account allowed to create databases)."""

from __future__ import annotations

import secrets

import asyncpg


async def _admin(sql: str, admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_scratch(prefix: str, admin_url: str) -> tuple[str, str]:
    """A new, empty database beside `admin_url`'s: (its URL, its name)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"', admin_url)
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


async def drop_scratch(name: str, admin_url: str) -> None:
    """Drop it, even with connections still open."""
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)
