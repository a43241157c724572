"""Intake's configuration in memory: channel systems, receiving addresses and tenants' regions.

Read on every request but changed rarely, so it is loaded whole and refreshed every few seconds,
and at once when a lookup misses (a channel system or address added a moment ago works at once).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from switchboard.common.db import Database
from switchboard.intake import store
from switchboard.intake.store import ChannelSystem


@dataclass
class _Snapshot:
    systems: dict[str, ChannelSystem] = field(default_factory=dict)
    destinations: dict[str, dict[str, str]] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    loaded_at: float = float("-inf")


class Directory:
    def __init__(self, db: Database, *, max_age_seconds: float = 5.0) -> None:
        self._db = db
        self._max_age = max_age_seconds
        self._snapshot = _Snapshot()
        self._lock = asyncio.Lock()

    async def channel_system(self, system_id: str) -> ChannelSystem | None:
        snapshot = await self._fresh()
        if system_id not in snapshot.systems:
            snapshot = await self._fresh(force=True)
        return snapshot.systems.get(system_id)

    async def destinations(self, channel: str, wanted: list[str]) -> dict[str, str]:
        """The channel's receiving addresses → tenants (reloaded if none of `wanted` is known)."""
        snapshot = await self._fresh()
        known = snapshot.destinations.get(channel, {})
        if not any(w.lower() in known for w in wanted):
            known = (await self._fresh(force=True)).destinations.get(channel, {})
        return known

    async def email_domains(self) -> set[str]:
        """The domains of the tenants' receiving email addresses."""
        known = (await self._fresh()).destinations.get("email", {})
        return {address.rpartition("@")[2] for address in known}

    async def region(self, tenant_id: str) -> str:
        return (await self._fresh()).regions.get(tenant_id, "AU")

    async def _fresh(self, *, force: bool = False) -> _Snapshot:
        if not force and time.monotonic() - self._snapshot.loaded_at < self._max_age:
            return self._snapshot
        async with self._lock:
            if not force and time.monotonic() - self._snapshot.loaded_at < self._max_age:
                return self._snapshot
            if force and time.monotonic() - self._snapshot.loaded_at < 0.2:
                return self._snapshot  # a burst of misses reloads once
            snapshot = _Snapshot(loaded_at=time.monotonic())
            async with self._db.reader() as session:
                systems, destinations, tenants = await store.directory(session)
            for system in systems:
                snapshot.systems[system.id] = system
            for destination in destinations:
                by_address = snapshot.destinations.setdefault(destination.channel, {})
                by_address[destination.address] = destination.tenant_id
            for tenant in tenants:
                snapshot.regions[tenant.tenant_id] = tenant.region
            self._snapshot = snapshot
            return snapshot
