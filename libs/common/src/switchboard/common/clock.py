"""A service's clock: the real time, or, for tests and rehearsals, the real time moved on by the
number of seconds written in a file (read every time, so a test can jump hours ahead while the
service runs). Escalation's timers and dispatch's deadlines run on it, driven by `DueLoop`."""

from __future__ import annotations

import asyncio
import contextlib
import time
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


GAUGE_SECONDS = 10.0
"""How often an idle loop refreshes the gauges it counts from a table."""


class Every:
    """True at most once per `seconds`: for refreshing a gauge from an idle loop's tick without
    counting a table four times a second."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True


class DueLoop:
    """Does what has fallen due, again at once while there is more, then sleeps until the next
    thing is due: at most `tick`, so work is done within a tick of its time (and of a jump of the
    clock), and less when woken (`wake`, after a transaction scheduled something sooner). An idle
    tick only asks `upcoming`, a read; the work itself, a write transaction, runs when woken, when
    something is due, and otherwise once every `SWEEP_SECONDS` (for rows another process wrote,
    or put back). A failure (the database away) is logged and retried a second later."""

    SWEEP_SECONDS = 5.0

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
        loop = asyncio.get_running_loop()
        due_now, swept = True, loop.time()
        while True:
            try:
                if due_now:
                    swept = loop.time()
                    if await work():
                        continue
                self._woken.clear()
                wait, due = self.tick, await upcoming()
                if due is not None:
                    wait = min(self.tick, max(0.0, (aware(due) - self.clock.now()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), timeout=wait)
                due_now = (
                    self._woken.is_set()
                    or (due is not None and aware(due) <= self.clock.now())
                    or loop.time() - swept >= self.SWEEP_SECONDS
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("due work failed; retrying", loop=self.name, error=repr(error))
                due_now = True
                await asyncio.sleep(1.0)
