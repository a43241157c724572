"""A stand-in telephony platform and SMS gateway for the integration tests: a real HTTP server on
loopback that checks every request's channel-system signature, records it, and answers as a test
scripts it (by default: a route connects, a dial is answered, an SMS is taken)."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from switchboard.common.process import free_port
from switchboard.common.signing import (
    SIGNATURE_HEADER,
    SYSTEM_HEADER,
    TIMESTAMP_HEADER,
    signature,
)


class ChannelPlatform:
    def __init__(self) -> None:
        self.port = free_port()
        self.secrets: dict[str, str] = {}
        self.received: list[dict[str, Any]] = []
        self._scripts: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self._lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = platform._answer(self.path, dict(self.headers.items()), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, key: str, *answers: tuple[int, dict[str, Any]]) -> None:
        """The next answers to requests about `key` (a call id, or an SMS's number)."""
        with self._lock:
            self._scripts[key].extend(answers)

    def requests(self, test: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if test(r["body"])]

    def commands(
        self, call_id: str, command: str, count: int = 1, timeout: float = 45
    ) -> list[dict[str, Any]]:
        """The `command`s about `call_id` received, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests(
                lambda b: b.get("call_id") == call_id and b.get("command") == command
            )
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"waited {timeout} s for {count} {command} command(s) about {call_id}")

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        system = headers.get(SYSTEM_HEADER, "")
        secret = self.secrets.get(system)
        expected = signature(secret, headers.get(TIMESTAMP_HEADER, ""), raw) if secret else ""
        if not secret or not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
            return 401, {"error": "bad signature"}
        body = json.loads(raw)
        key = body.get("call_id") or body.get("to") or ""
        with self._lock:
            self.received.append(
                {
                    "path": path,
                    "system": system,
                    "body": body,
                    "idempotency_key": headers.get("Idempotency-Key"),
                }
            )
            scripted = self._scripts[key].popleft() if self._scripts.get(key) else None
        if scripted is not None:
            return scripted
        if path.endswith("/sms"):
            return 202, {"status": "queued"}
        return 200, {"outcome": "answered" if body.get("command") == "dial" else "connected"}

    def wire(self, config: dict[str, Any]) -> None:
        """A centre file's telephony platform and SMS gateway made this one, and its callbacks
        dialled at any hour (so a test of them passes at night too)."""
        for system in config["channel_systems"]:
            if "phone" in system["channels"]:
                system["control_url"] = f"{self.url}/calls"
            if "sms" in system["channels"]:
                system["send_url"] = f"{self.url}/sms"
        for tenant in config["tenants"]:
            tenant["callbacks"] = {"hours": []}
