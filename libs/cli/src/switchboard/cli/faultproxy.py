"""A small fault-injecting TCP proxy for the chaos suite: the centre talks to its broker or its
database through it, and the suite cuts or stalls the line.

    proxy = FaultProxy(target=("127.0.0.1", 5432))
    proxy.start()            # listens on 127.0.0.1:proxy.port, in a thread of its own
    proxy.cut()              # every connection reset, new ones refused, until restore()
    proxy.stall()            # connections stay open but no byte moves, until restore()
    proxy.restore()
    proxy.stop()

Loopback only; it stops with the process that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

from switchboard.common.process import free_port

CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, *, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self.mode = "open"
        """open, cut or stalled."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()

    # -- control, from any thread ----------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._set("cut"))

    def stall(self) -> None:
        self._call(self._set("stalled"))

    def restore(self) -> None:
        self._call(self._set("open"))

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    # -- the proxy, on its own loop --------------------------------------------------------------
    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _set(self, mode: str) -> None:
        self.mode = mode
        if mode == "open":
            self._flowing.set()
            return
        self._flowing.clear()
        if mode == "cut":
            for writer in list(self._links):
                _reset(writer)
            self._links.clear()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._links):
            _reset(writer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            _reset(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._links.update((writer, upstream_writer))
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )
        self._links.discard(writer)
        self._links.discard(upstream_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, RuntimeError):
            while data := await reader.read(CHUNK):
                await self._flowing.wait()  # a stall holds the bytes here
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()
