"""Each agent's Server-Sent Events stream: the inbox from `Last-Event-ID` on, then new entries as
they are committed. An entry is numbered in the agent's own sequence, so a reconnect resumes exactly
where the browser stopped: nothing missed, nothing twice.

This process's consumer wakes a stream the moment it commits; a stream also looks every
`poll_seconds` for entries another replica's consumer stored.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from switchboard.common.db import Database
from switchboard.desktop import store


class Wakeups:
    """Per agent, the events their open streams wait on."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)

    @property
    def open_streams(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())

    def wake(self, agent_id: str) -> None:
        for event in self._waiting.get(agent_id, ()):
            event.set()

    def register(self, agent_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._waiting[agent_id].add(event)
        return event

    def unregister(self, agent_id: str, event: asyncio.Event) -> None:
        waiting = self._waiting.get(agent_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._waiting[agent_id]


def frame(event_type: str, data: dict[str, Any], seq: int | None = None) -> str:
    lines = [f"id: {seq}"] if seq is not None else []
    lines += [f"event: {event_type}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


async def stream(
    db: Database,
    wakeups: Wakeups,
    agent_id: str,
    *,
    after: int,
    hello: dict[str, Any] | None,
    heartbeat: float,
    poll: float,
) -> AsyncIterator[str]:
    """The agent's events after `after`. `hello` (the agent's state now, on a fresh connection) goes
    first; `retry:` tells the browser to reconnect after a second."""
    woken = wakeups.register(agent_id)
    try:
        yield "retry: 1000\n\n"
        if hello is not None:
            yield frame("hello", hello, after)
        else:
            async with db.reader() as session:
                oldest = await store.oldest_kept(session, agent_id)
            if oldest is not None and oldest > after + 1:
                yield frame("resync", {"reason": "events older than the inbox keeps were missed"})
        quiet = 0.0
        while True:
            woken.clear()
            async with db.reader() as session:
                entries = await store.inbox_after(session, agent_id, after)
            for entry in entries:
                yield frame(entry.event_type, entry.data, entry.seq)
                after = entry.seq
            if entries:
                quiet = 0.0
                continue
            try:
                await asyncio.wait_for(woken.wait(), timeout=poll)
            except TimeoutError:
                quiet += poll
                if quiet >= heartbeat:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
    finally:
        wakeups.unregister(agent_id, woken)
