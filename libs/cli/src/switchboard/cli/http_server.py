"""The HTTP server a service runs in: uvicorn's, woken once a second instead of ten times, with the
garbage collector settled for a long-running process once the service has started
(`common/collector.py`).

uvicorn's `Server.main_loop` sleeps a tenth of a second at a time, to notice a signal to stop and
to refresh the `Date` header once a second: ten wake-ups a second in each of a centre's services
with nothing to do (measured idle, about a sixth of a service's event-loop callbacks). Here the
loop sleeps until the next second, when the `Date` header changes, or until a signal asks it to
stop: a stop is as prompt as before, and an idle service wakes once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from switchboard.common import collector


class QuietServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            collector.settle()

    async def main_loop(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        if self.should_exit:  # a signal came before the loop was running
            self._stop.set()
        # on_tick refreshes the Date header when its counter is a multiple of ten: at every wake.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0 - time.time() % 1.0)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # A signal handler runs between two bytecodes of the loop's own thread: hand the wake-up
        # to the loop through its self-pipe, as for a call from another thread.
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)


STARTUP_FAILED = 3
"""The exit status when the service never started (its lifespan failed), as `uvicorn.run` exits:
a supervisor or an orchestrator restarts it."""


KEEP_ALIVE_SECONDS = 75
"""How long an idle client connection is kept open. Longer than its clients keep one (httpx and
uvicorn itself 5 s, load balancers 60 s): the client closes it first. With uvicorn's 5 s, a
client's request sent on a connection idle just under 5 s meets the server closing it and is lost
with a reset connection (the likeliest cause of httpx's `ReadError` in some of the benches'
bursts, `deploy/CAPACITY.md`, ninth round)."""


def serve(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve `app` until SIGINT or SIGTERM, as `uvicorn.run` does with these settings."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = QuietServer(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILED)
