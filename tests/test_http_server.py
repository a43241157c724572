"""The services' HTTP server: uvicorn's, woken once a second instead of ten times, and as prompt
to stop on a signal as uvicorn itself."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import textwrap
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from switchboard.cli.http_server import STARTUP_FAILED
from switchboard.common.collector import YOUNG_THRESHOLD
from tests.integration.ports import reserved_port

_APP = textwrap.dedent(
    """
    import sys, time
    from contextlib import asynccontextmanager
    from pathlib import Path
    from fastapi import FastAPI
    from switchboard.cli.http_server import serve

    @asynccontextmanager
    async def lifespan(app):
        if sys.argv[2] == "fail":
            raise RuntimeError("the database is away")
        yield
        Path(sys.argv[3]).write_text(repr(time.time()))  # when the shutdown began

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root():
        return {"ok": True}

    @app.get("/collector")
    async def collector():
        import gc
        return {"young": gc.get_threshold()[0], "frozen": gc.get_freeze_count()}

    serve(app, host="127.0.0.1", port=int(sys.argv[1]))
    """
)


def _start(port: int, mode: str, stopped: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _APP, str(port), mode, str(stopped)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _answer(port: int, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_it_answers_with_the_current_date_and_stops_at_once_on_sigterm(tmp_path: Path) -> None:
    port, stopped = reserved_port(), tmp_path / "stopped"
    server = _start(port, "ok", stopped)
    try:
        first = _answer(port)
        assert first.json() == {"ok": True}
        # Once started, the start-up heap is frozen and young collections are rarer.
        settled = httpx.get(f"http://127.0.0.1:{port}/collector", timeout=2).json()
        assert settled["young"] == YOUNG_THRESHOLD and settled["frozen"] > 10_000
        time.sleep(2.2)  # the Date header is refreshed every second, not only at start
        later = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        first_date = parsedate_to_datetime(first.headers["date"])
        later_date = parsedate_to_datetime(later.headers["date"])
        # 2-3 s on a quiet machine. The request can be answered in the same turn of the loop as
        # the wake that refreshes the header, before it, so a loaded machine that gave the server
        # no turn across a whole second shows one refresh fewer; never none.
        assert 1 <= (later_date - first_date).total_seconds() <= 4
        # Just after a whole second, when the loop has begun its sleep to the next one: the signal
        # cuts the sleep short (as uvicorn's tenth of a second was), so the shutdown begins at
        # once, not 0.95 s later.
        time.sleep(1.05 - time.time() % 1.0)
        asked = time.time()
        server.send_signal(signal.SIGTERM)
        # After its graceful shutdown uvicorn raises the signal it caught again, so the process
        # ends as a SIGTERM'd one would.
        assert server.wait(10) == -signal.SIGTERM
        assert float(stopped.read_text()) - asked < 0.6
    finally:
        server.kill()
        server.wait()


def test_an_idle_connection_outlasts_the_clients_own_keep_alive() -> None:
    """A connection left idle for longer than httpx keeps one (5 s) is still served: the client,
    not the server, closes it, so no request is sent on a connection the server is closing."""
    port = reserved_port()
    server = _start(port, "ok")
    try:
        _answer(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            sockets = []
            for pause in (0.0, 6.0):
                time.sleep(pause)
                connection.request("GET", "/")
                sockets.append(connection.sock)
                answer = connection.getresponse()  # RemoteDisconnected had the server closed it
                assert answer.status == 200 and answer.read() == b'{"ok":true}'
            assert sockets[0] is sockets[1]  # the same connection, not a new one
        finally:
            connection.close()
    finally:
        server.kill()
        server.wait()


def test_a_service_that_could_not_start_exits_with_uvicorns_startup_failure() -> None:
    server = _start(reserved_port(), "fail")
    try:
        assert server.wait(30) == STARTUP_FAILED
    finally:
        server.kill()
        server.wait()


def test_a_settled_collector_still_frees_cycles() -> None:
    """Made after the freeze, a cycle of objects is garbage the collector still finds."""
    program = textwrap.dedent(
        """
        import gc, weakref
        from switchboard.common.collector import YOUNG_THRESHOLD, settle

        settle()

        class Node:
            pass

        freed = []
        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, freed.append, "a")
        del a, b
        keep = [[] for _ in range(YOUNG_THRESHOLD * 2)]  # new objects: a young collection runs
        print("freed" if freed else "kept")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.strip() == "freed", done.stderr
