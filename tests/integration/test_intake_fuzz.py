"""Malformed inputs per intake endpoint, signed as a channel system would sign them (so they reach
the parsers, not just the signature check): never a 5xx, and every refusal a 4xx with its reason.
The parsers themselves take thousands of such inputs each in intake's unit tests
(`services/intake/tests/test_parser_fuzz.py`); here the same kinds of input, fewer of them, go
the whole way in through HTTP: the hostile seeds always, then damaged and random ones."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.common.signing import signed_headers
from tests.fuzzing import (
    CTI_BODIES,
    EMAIL_BODIES,
    FAX_FIELDS,
    HOSTILE_CTI,
    HOSTILE_EMAILS,
    LETTER_FIELDS,
    forms,
    fuzz,
)
from tests.integration import loopback
from tests.integration.harness import RunningCentre

FUZZ = fuzz(150)
pytestmark = pytest.mark.parametrize("centre", ["sqlite"], indirect=True)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120, verify=loopback.TLS) as http:
        yield http


def _post(
    centre: RunningCentre,
    client: httpx.Client,
    path: str,
    body: bytes,
    content_type: str,
    system: str,
) -> None:
    headers = {"Content-Type": content_type, **signed_headers(system, centre.systems[system], body)}
    response = client.post(centre.url("intake", path), content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text, body[:200])
    assert response.status_code in (202, 400, 401, 403, 409, 413, 415, 422), response.text
    if response.status_code != 202:
        assert response.json()["detail"]


def test_email_endpoint(centre: RunningCentre, client: httpx.Client) -> None:
    for hostile in HOSTILE_EMAILS:
        _post(centre, client, "/v1/email", hostile, "message/rfc822", centre.mail_system)

    @FUZZ
    @given(body=EMAIL_BODIES, ctype=st.sampled_from(["message/rfc822"] * 9 + ["text/plain"]))
    def run(body: bytes, ctype: str) -> None:
        _post(centre, client, "/v1/email", body, ctype, centre.mail_system)

    run()


def test_phone_endpoint(centre: RunningCentre, client: httpx.Client) -> None:
    for hostile in HOSTILE_CTI:
        _post(centre, client, "/v1/phone/events", hostile, "application/json", centre.system("cti"))

    @FUZZ
    @given(body=CTI_BODIES)
    def run(body: bytes) -> None:
        _post(centre, client, "/v1/phone/events", body, "application/json", centre.system("cti"))

    run()


@pytest.mark.parametrize(
    ("path", "names"), [("/v1/letter", LETTER_FIELDS), ("/v1/fax", FAX_FIELDS)]
)
def test_document_endpoints(
    centre: RunningCentre, client: httpx.Client, path: str, names: list[str]
) -> None:
    @FUZZ
    @given(posted=forms(names))
    def run(posted: tuple[bytes, str]) -> None:
        body, content_type = posted
        _post(centre, client, path, body, content_type, centre.system("mailroom"))

    run()
