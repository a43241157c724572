"""Each agent's Server-Sent Events stream: the inbox from `Last-Event-ID` on, then new entries as
they are committed. An entry is numbered in the agent's own sequence, so a reconnect resumes exactly
where the browser stopped: nothing missed, nothing twice.

This process's consumer wakes a stream the moment it commits, and hands it the entries it
committed: a stream that is up to date sends them from memory, without reading its inbox again (200
agents' streams each read their inbox after every commit that told them anything: an eighth of the
desktop's work under load). Entries another replica's consumer stored are noticed by
`Wakeups.watch`: one query every `poll_seconds` for all the agents with a stream open here, not one
per stream; a stream that learns of an entry it was not handed reads its inbox, as does one that
connects, or resumes from further back than memory holds.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import structlog

from switchboard.common.db import Database
from switchboard.desktop import inbox_store

log = structlog.get_logger("switchboard.desktop")


RECENT_KEPT = 100
"""Per agent with a stream open, the most entries committed here kept in memory. An agent with one
stream open keeps only those it has not sent yet; this bounds the rest (several streams, or one
that has fallen behind, which reads its inbox)."""


class Wakeups:
    """Per agent, the events their open streams wait on, and the newest entries committed here."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._newest: dict[str, int] = {}
        """Per agent with a stream open, the newest inbox number known: committed here or seen by
        `watch`."""
        self._recent: dict[str, dict[int, inbox_store.Told]] = {}
        """Per agent with a stream open, the entries committed here lately, by number."""

    @property
    def open_streams(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())

    @property
    def entries_kept(self) -> int:
        return sum(len(recent) for recent in self._recent.values())

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
                self._newest.pop(agent_id, None)
                self._recent.pop(agent_id, None)

    def committed(self, agent_id: str, told: list[inbox_store.Told]) -> None:
        """`told` (numbered in order) has been committed to the agent's inbox: keep it for their
        open streams and wake them."""
        if agent_id not in self._waiting or not told:
            return
        recent = self._recent.setdefault(agent_id, {})
        for entry in told:
            recent[entry.seq] = entry
        while len(recent) > RECENT_KEPT:
            del recent[min(recent)]
        self._newest[agent_id] = max(self._newest.get(agent_id, 0), told[-1].seq)
        self.wake(agent_id)

    def forget(self) -> None:
        """Drop the entries kept in memory (their stored copies were changed: an erasure), so
        streams read their inboxes again."""
        self._recent.clear()

    def after(self, agent_id: str, after: int) -> list[inbox_store.Told] | None:
        """The agent's entries after `after` from memory, when memory holds every one up to the
        newest known; None when the stream must read its inbox."""
        newest = self._newest.get(agent_id)
        if newest is None:
            return None
        recent = self._recent.get(agent_id, {})
        told = []
        for seq in range(after + 1, min(newest, after + inbox_store.PAGE) + 1):
            entry = recent.get(seq)
            if entry is None:
                return None
            told.append(entry)
        return told

    def sent(self, agent_id: str, seq: int) -> None:
        """A stream of the agent has sent every entry up to `seq`: when it is their only one, those
        are let go."""
        recent = self._recent.get(agent_id)
        if recent and len(self._waiting.get(agent_id, ())) == 1:
            for kept in [kept for kept in recent if kept <= seq]:
                del recent[kept]

    async def watch(self, db: Database, every: float) -> None:
        """Wakes the streams of agents whose newest inbox number has changed since the last look
        (or is seen for the first time), every `every` seconds (a `background` task)."""
        while True:
            await asyncio.sleep(every)
            agents = list(self._waiting)
            if not agents:
                continue
            try:
                async with db.reader() as session:
                    newest = await inbox_store.last_seqs(session, agent_ids=agents)
            except Exception as error:  # the database away: the next look catches up
                log.warning("inboxes not looked at", error=repr(error))
                continue
            for agent_id, seq in newest.items():
                if agent_id in self._waiting and self._newest.get(agent_id, -1) < seq:
                    self._newest[agent_id] = seq
                    self.wake(agent_id)


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
                oldest = await inbox_store.oldest_kept(session, agent_id=agent_id)
            if oldest is not None and oldest > after + 1:
                yield frame("resync", {"reason": "events older than the inbox keeps were missed"})
        while True:
            # Cleared before the read: an entry committed after it sets `woken` again, so a short
            # page is the whole inbox for now and the stream waits, with no second read to be sure.
            woken.clear()
            entries = wakeups.after(agent_id, after)
            if entries is None:
                async with db.reader() as session:
                    entries = await inbox_store.inbox_after(session, agent_id=agent_id, after=after)
            for entry in entries:
                yield frame(entry.event_type, entry.data, entry.seq)
                after = entry.seq
            wakeups.sent(agent_id, after)
            if len(entries) == inbox_store.PAGE:
                continue
            try:
                await asyncio.wait_for(woken.wait(), timeout=heartbeat)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        wakeups.unregister(agent_id, woken)
