"""A service's clock: the real time, or, for tests and rehearsals, the real time moved on by the
number of seconds written in a file (read every time, so a test can jump hours ahead while the
service runs). Escalation's timers and dispatch's deadlines run on it, driven by `DueLoop`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from switchboard.common.envelope import aware, utcnow

log = structlog.get_logger("switchboard.clock")


class Clock:
    def __init__(self, offset_file: Path | None = None) -> None:
        self.offset_file = offset_file

    def offset(self) -> timedelta:
        if self.offset_file is None:
            return timedelta()
        try:
            return timedelta(seconds=float(self.offset_file.read_text().strip() or 0))
        except (OSError, ValueError):
            return timedelta()

    def now(self) -> datetime:
        return utcnow() + self.offset()

    def shift(self, real: datetime) -> datetime:
        """A moment of real time (an event's) on this clock."""
        return real + self.offset()


class DueLoop:
    """Does what has fallen due, again at once while there is more, then sleeps until the next
    thing is due: at most `tick`, so work is done within a tick of its time, and less when woken
    (`wake`, after a transaction scheduled something sooner). A failure (the database away) is
    logged and retried a second later."""

    def __init__(self, clock: Clock, *, tick: float, name: str) -> None:
        self.clock, self.tick, self.name = clock, tick, name
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def run(
        self,
        work: Callable[[], Awaitable[bool]],
        upcoming: Callable[[], Awaitable[datetime | None]],
    ) -> None:
        """`work` does one round and says whether more may be due now; `upcoming` gives when the
        next thing falls due (and is where the idle loop refreshes its gauges)."""
        while True:
            try:
                if await work():
                    continue
                self._woken.clear()
                wait, due = self.tick, await upcoming()
                if due is not None:
                    wait = min(self.tick, max(0.0, (aware(due) - self.clock.now()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), timeout=wait)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("due work failed; retrying", loop=self.name, error=repr(error))
                await asyncio.sleep(1.0)
