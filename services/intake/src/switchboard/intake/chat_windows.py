"""This process's open chat windows, told when their chat has news, and each window's rate
limit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any


class ChatHub:
    """This process's open chat windows, each told when its chat has news."""

    def __init__(self) -> None:
        self._windows: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @contextlib.asynccontextmanager
    async def window(self, session_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._windows[session_id].add(queue)
        try:
            yield queue
        finally:
            self._windows[session_id].discard(queue)
            if not self._windows[session_id]:
                del self._windows[session_id]
                self.locks.pop(session_id, None)

    def tell(self, session_id: str, note: dict[str, Any]) -> None:
        for queue in self._windows.get(session_id, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(note)


class RateLimit:
    """At most `burst` messages at once, refilled at `per_second`."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst, self.per_second = burst, per_second
        self.tokens, self.at = float(burst), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
