"""A centre knows it is whole only when every service answers at its own address: ports are chosen
distinct, and a service that another one answers for is not counted as up."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from switchboard.cli.centre import Centre
from switchboard.common.process import free_ports
from switchboard.common.settings import Settings


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
    ports = free_ports("catalogue", "desktop", "workforce")
    settings = Settings(var_dir=tmp_path, **{f"{name}_port": port for name, port in ports.items()})
    centre = Centre(settings, services=("catalogue", "desktop", "workforce"))
    try:
        with (
            _answering_as("desktop", ports["catalogue"]),
            _answering_as("desktop", ports["desktop"]),
        ):
            assert centre.health() == {
                "catalogue": "desktop answers at its address",
                "desktop": 200,
                "workforce": "ConnectError",
            }
    finally:
        centre.stop()
