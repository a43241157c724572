"""A centre knows it is whole only when every service answers at its own address: ports are chosen
distinct, and a service that another one answers for is not counted as up."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from switchboard.cli.centre import Centre
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings
from tests.integration import ports


def test_every_port_chosen_at_once_is_distinct_and_free() -> None:
    # 400 ports one at a time, each freed at once, gave a port twice in most runs (a birthday
    # draw over the kernel's ephemeral range); held together, they cannot.
    ports = free_ports(*(f"service{n}" for n in range(400)))
    assert len(set(ports.values())) == 400
    with ExitStack() as bound:
        for port in ports.values():
            bound.enter_context(socket.socket()).bind(("127.0.0.1", port))


@contextmanager
def _answering_as(service: str, port: int) -> Iterator[None]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "service": service}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_a_service_another_one_answers_for_is_not_healthy(tmp_path: Path) -> None:
    chosen = free_ports("catalogue", "desktop", "workforce")
    settings = Settings.model_validate(
        {"var_dir": tmp_path, **{f"{name}_port": port for name, port in chosen.items()}}
    )
    centre = Centre(settings, services=("catalogue", "desktop", "workforce"))
    try:
        with (
            _answering_as("desktop", chosen["catalogue"]),
            _answering_as("desktop", chosen["desktop"]),
        ):
            assert centre.health() == {
                "catalogue": "desktop answers at its address",
                "desktop": 200,
                "workforce": "ConnectError",
            }
    finally:
        centre.stop()


def test_test_centres_ports_are_reserved_below_the_kernels_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The test centres' ports come from below the range the kernel hands to `bind(0)` and to
    outgoing connections, each reserved by a lock this process holds: no other worker, run or
    connection is handed one between its choice and its service's bind. A port another process
    reserved, or something else holds, is passed over."""
    first = ports.centre_ports("intake", "routing", "broker")
    again = ports.centre_ports("intake", "routing", "broker")
    chosen = [*first.values(), *again.values()]
    assert len(set(chosen)) == 6  # never handed out twice, within a call or across calls
    assert all(ports.FIRST <= port <= ports.LAST < ports._kernels_lowest() for port in chosen)

    monkeypatch.setattr(random, "randrange", lambda _span: 0)
    candidates = [p for p in range(ports.FIRST, ports.FIRST + 20) if p not in chosen]
    other_process = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print(flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", other_process, str(ports.RESERVATIONS / str(candidates[0]))],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline()  # it holds the lock now
        with socket.socket() as someone_elses:
            someone_elses.bind(("127.0.0.1", candidates[1]))
            assert ports.centre_ports("desktop") == {"desktop": candidates[2]}
    finally:
        holder.kill()
        holder.wait()
