"""CPU-heavy reading (MIME, forms, PDFs, images) off the event loop, so a slow document delays only
itself: the health check, other requests and the SMTP listener keep being answered meanwhile.

A bounded pool of worker threads does the work (the inputs are bounded before they get here, so
each piece of work is too); a caller waits at most `timeout` seconds and is then refused with a
422. Python cannot stop a thread, so work that outlives its caller keeps its worker until it
ends, and the pool's bound is what keeps such work from piling up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from switchboard.common.errors import InvalidInput

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    def __init__(self, *, workers: int, timeout: float) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="intake-parse")

    async def run(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        future = asyncio.get_running_loop().run_in_executor(
            self._pool, lambda: work(*args, **kwargs)
        )
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            raise InvalidInput(
                f"reading it took longer than {self.timeout:.0f} s; it was not accepted",
                status=422,
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
