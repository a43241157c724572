"""`switchboard.common.scratch` for callers outside an event loop: the test harness, the
benchmarks and the chaos drill."""

from __future__ import annotations

import asyncio

from switchboard.common.scratch import create_scratch, drop_scratch


def create_database(admin_url: str, prefix: str) -> tuple[str, str]:
    """A new, empty database beside `admin_url`'s: (its URL, its name)."""
    return asyncio.run(create_scratch(prefix, admin_url))


def drop_database(admin_url: str, name: str) -> None:
    """Drop it, even with connections still open."""
    asyncio.run(drop_scratch(name, admin_url))
