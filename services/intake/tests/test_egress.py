"""Handing call commands and SMS to channel systems: signed, retried, refused for good on a 4xx,
the platform's stated outcome kept; a file named by its id when there is no webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from switchboard.common.process import free_port
from switchboard.common.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from switchboard.intake.egress import hand_on
from switchboard.intake.store import ChannelSystem

SYSTEM = ChannelSystem(id="acme-cti", tenant_id="acme", secret="s3cret", channels="phone")


class Platform:
    """A loopback webhook answering with the statuses it is given, in turn."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers, self.seen = list(answers), []  # type: ignore[var-annotated]
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                platform.seen.append((dict(self.headers.items()), body))
                status, answer = platform.answers.pop(0)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/commands"


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    server = Platform(request.param)
    yield server
    server.server.shutdown()
    server.server.server_close()


async def _hand(platform: Platform, tmp_path: Path) -> Any:
    return await hand_on(
        SYSTEM,
        platform.url,
        folder=tmp_path,
        item_id="cmd-1",
        body={"command": "dial", "call_id": "c-1"},
        attempts=3,
        pause_seconds=0.01,
        timeout_seconds=2,
    )


@pytest.mark.parametrize("platform", [[(503, {}), (200, {"outcome": "no_answer"})]], indirect=True)
async def test_a_failure_is_retried_and_the_stated_outcome_kept(
    platform: Platform, tmp_path: Path
) -> None:
    handed = await _hand(platform, tmp_path)
    assert (handed.outcome, handed.attempts) == ("no_answer", 2)
    headers, body = platform.seen[-1]
    assert headers["Idempotency-Key"] == "cmd-1"
    assert headers[SIGNATURE_HEADER] == signature("s3cret", headers[TIMESTAMP_HEADER], body)


@pytest.mark.parametrize("platform", [[(409, {"error": "busy"})]], indirect=True)
async def test_a_refusal_is_final(platform: Platform, tmp_path: Path) -> None:
    handed = await _hand(platform, tmp_path)
    assert (handed.outcome, handed.attempts) == ("failed", 1)
    assert "HTTP 409" in handed.reason


@pytest.mark.parametrize("platform", [[(500, {})] * 3], indirect=True)
async def test_a_platform_that_keeps_failing_counts_as_failed(
    platform: Platform, tmp_path: Path
) -> None:
    handed = await _hand(platform, tmp_path)
    assert (handed.outcome, handed.attempts) == ("failed", 3)


async def test_without_a_webhook_the_command_is_a_file_named_by_its_id(tmp_path: Path) -> None:
    handed = await hand_on(
        None,
        None,
        folder=tmp_path / "call-control",
        item_id="cmd/../2",
        body={"command": "route"},
        attempts=3,
        pause_seconds=0,
        timeout_seconds=1,
    )
    assert handed.outcome == "delivered"
    [written] = (tmp_path / "call-control").iterdir()
    assert written.name == "cmd_.._2.json" and json.loads(written.read_text()) == {
        "command": "route"
    }
