"""The credit bureau's and the payment provider's HTTP adapters against a real HTTP server on
loopback (what they send, what they make of the answers), and the stand-ins."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from switchboard.catalogue.ports import (
    Applicant,
    HttpBureau,
    HttpProvider,
    PortUnavailable,
    StandInBureau,
    StandInProvider,
)
from switchboard.common.compliance.pii import holds_card_number, luhn_valid
from switchboard.common.events.desktop import Payment

PAT = Applicant("Pat Lee", date(1980, 5, 1), "1 George St")


class Service:
    """A bureau or provider: answers each POST with the next of `answers` (status, body)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []
        self.asked: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.asked.append((self.path, dict(self.headers), body))
                status, answer = outer.answers.pop(0)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"


@pytest.fixture
def service() -> Iterator[Service]:
    found = Service()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()


async def test_the_bureau_is_asked_with_its_key_and_its_decision_kept(service: Service) -> None:
    bureau = HttpBureau(service.url, "bureau-key", timeout=5)
    service.answers = [
        (200, {"decision": "refer", "reason": "thin file", "reference": "B-1"}),
        (200, {"decision": "maybe"}),
        (500, "down"),
        (200, "not json"),
    ]
    decision = await bureau.check(PAT, amount_cents=120_000, today=date(2026, 12, 3))
    assert (decision.decision, decision.reason, decision.reference) == ("refer", "thin file", "B-1")
    path, headers, body = service.asked[0]
    assert path == "/api/checks" and headers["Authorization"] == "Bearer bureau-key"
    assert body == {
        "name": "Pat Lee",
        "date_of_birth": "1980-05-01",
        "address": "1 George St",
        "amount_cents": 120_000,
    }
    for _ in range(3):
        with pytest.raises(PortUnavailable):
            await bureau.check(PAT, amount_cents=1, today=date(2026, 12, 3))


async def test_the_provider_turns_a_card_into_its_token(service: Service) -> None:
    provider = HttpProvider(service.url, None, timeout=5)
    service.answers = [
        (200, {"token": "pm_123", "brand": "visa"}),
        (200, {"token": "4111111111111111"}),
        (402, {"error": "declined"}),
    ]
    token = await provider.tokenise(
        number="4111111111111111", expiry="12/30", name="P Lee", security_code="123"
    )
    assert (token.token, token.brand, token.last4) == ("pm_123", "visa", "1111")
    assert service.asked[0][0] == "/api/tokens" and "Authorization" not in service.asked[0][1]
    for _ in range(2):  # a "token" that is the number itself, and a refusal
        with pytest.raises(PortUnavailable) as refused:
            await provider.tokenise(
                number="4111111111111111", expiry="12/30", name="P Lee", security_code=None
            )
        assert "4111" not in str(refused.value)


async def test_the_stand_ins_are_deterministic() -> None:
    bureau = StandInBureau(limit_cents=300_000)
    today = date(2026, 12, 3)
    first = await bureau.check(PAT, amount_cents=100_000, today=today)
    assert first == await bureau.check(PAT, amount_cents=100_000, today=today)
    assert first.decision == "approved"
    assert (await bureau.check(PAT, amount_cents=300_001, today=today)).decision == "declined"
    young = Applicant("Sam", date(2009, 12, 4), "x")  # 18 tomorrow
    assert (
        await bureau.check(young, amount_cents=1, today=today)
    ).reason == "the applicant is under 18"
    provider = StandInProvider(b"key")
    a = await provider.tokenise(
        number="5555555555554444", expiry="01/29", name="A", security_code=None
    )
    b = await provider.tokenise(
        number="5555555555554444", expiry="01/29", name="B", security_code="1"
    )
    assert a == b and a.brand == "mastercard" and "5555555555554444" not in a.token


async def test_a_stand_in_token_never_looks_like_a_card_number() -> None:
    """A token travels on to dispatch's job sheet, where anything that looks like a card number is
    refused: a hex token once held a Luhn-valid run of 14 digits and failed an order's placing."""
    rng = random.Random(7)
    provider = StandInProvider(b"key")
    for _ in range(2000):
        digits = [rng.choice("0123456789") for _ in range(15)]
        check = next(d for d in "0123456789" if luhn_valid("4" + "".join(digits) + d))
        number = "4" + "".join(digits) + check
        token = await provider.tokenise(number=number, expiry="12/30", name="A", security_code=None)
        assert not holds_card_number(token.token), token
        Payment(method="card", token=token.token)  # what the field job carries
