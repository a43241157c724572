"""Thousands of malformed inputs per intake endpoint, signed as a channel system would sign them
(so they reach the parsers, not just the signature check): never a 5xx. Among the seeds are the
hostile shapes that once took intake down: MIME nested past its limits, too many parts and
recipients, headers over their size, a missing boundary, JSON nested deeper than any event, a form
of too many parts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.cli import samples
from switchboard.common.signing import signed_headers
from tests.integration.harness import RunningCentre, multipart

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
pytestmark = pytest.mark.parametrize("centre", ["sqlite"], indirect=True)

VALID_EMAIL = (
    b"From: Fuzz <fuzz@example.net>\r\nTo: help@acme.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
    b"Message-ID: <fuzz@example.net>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n'
    b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
)
HOSTILE_EMAILS = [
    b"From: f@example.net\r\nTo: help@acme.example\r\nSubject: deep\r\n"
    + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(60)
    ),
    b'From: f@example.net\r\nTo: help@acme.example\r\nContent-Type: multipart/mixed; boundary="p"'
    b"\r\n\r\n" + b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 520 + b"--p--\r\n",
    b"From: f@example.net\r\nTo: help@acme.example\r\nCc: "
    + b", ".join(b"u%d@example.org" % n for n in range(520))
    + b"\r\n\r\nhi\r\n",
    b"From: f@example.net\r\nTo: help@acme.example\r\nSubject: " + b"s" * 33_000 + b"\r\n\r\nhi",
    b"From: f@example.net\r\nTo: help@acme.example\r\nContent-Type: multipart/mixed\r\n\r\n"
    b"--x\r\nContent-Type: text/plain\r\n\r\nno boundary declared\r\n--x--\r\n",
    b"From: f@example.net\r\nTo: help@acme.example\r\nContent-Type: multipart/digest; "
    b'boundary="d"\r\n\r\n--d\r\n\r\nFrom: a@b.c\r\n\r\nin a digest\r\n--d--\r\n',
]
HOSTILE_CTI = [
    b"[" * 5000 + b"]" * 5000,
    b'{"event": "offered", "call_id": "c", "at": "9999-12-31T00:00:00Z"}',
]
DOCUMENTS = [
    samples.text_pdf(["fuzz"]),
    b"II*\x00\x08\x00\x00\x00",
    b"\x89PNG\r\n\x1a\n",
    b"%PDF-1.7\n",
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few bytes cut, changed or inserted: damaged, but recognisably what it was."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["cut", "flip", "insert", "truncate"]))
        if action == "cut":
            del data[at : at + draw(st.integers(1, 20))]
        elif action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            del data[at:]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
cti_events = st.fixed_dictionaries(
    {
        "event": st.sampled_from(
            ["offered", "answered", "abandoned", "ended", "voicemail", "callback_requested", "x"]
        )
    },
    optional={
        "call_id": st.text(max_size=300),
        "at": st.sampled_from(["2026-11-24T09:00:00Z", "2026-11-24", "yesterday", ""])
        | st.integers(),
        "dnis": st.sampled_from(["+61255501000", "0255501000", "12", "", "+999"])
        | st.text(max_size=50),
        "ani": st.none() | st.text(max_size=50),
        "ivr": json_values,
        "duration_seconds": json_values,
        "callback_number": st.text(max_size=50),
        "recording_ref": st.text(max_size=50),
    },
)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120) as http:
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
    @FUZZ
    @given(
        body=st.binary(max_size=3000)
        | mutated(VALID_EMAIL)
        | st.sampled_from(HOSTILE_EMAILS)
        | st.sampled_from(HOSTILE_EMAILS).flatmap(mutated),
        ctype=st.sampled_from(["message/rfc822"] * 9 + ["text/plain"]),
    )
    def run(body: bytes, ctype: str) -> None:
        _post(centre, client, "/v1/email", body, ctype, centre.mail_system)

    run()


def test_phone_endpoint(centre: RunningCentre, client: httpx.Client) -> None:
    @FUZZ
    @given(
        body=cti_events.map(lambda e: json.dumps(e).encode())
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=300)
        | st.sampled_from(HOSTILE_CTI).flatmap(mutated)
    )
    def run(body: bytes) -> None:
        _post(centre, client, "/v1/phone/events", body, "application/json", "acme-cti")

    run()


def _document_fuzz(
    centre: RunningCentre, client: httpx.Client, path: str, names: list[str]
) -> None:
    fields = st.dictionaries(
        st.sampled_from(names),
        st.text(max_size=40).filter(lambda t: "\r" not in t and "\n" not in t),
    )

    @FUZZ
    @given(
        fields=fields,
        document=st.none() | st.binary(max_size=500) | st.sampled_from(DOCUMENTS).flatmap(mutated),
        raw=st.booleans(),
        junk=st.binary(max_size=400),
        many=st.booleans(),
    )
    def run(
        fields: dict[str, str], document: bytes | None, raw: bool, junk: bytes, many: bool
    ) -> None:
        if many:  # more form parts than any letter or fax has
            fields = {**fields, **{f"extra{n}": "x" for n in range(25)}}
        body, ctype = multipart(fields, document)
        if raw:  # not even multipart
            body = junk
        _post(centre, client, path, body, ctype, "acme-mailroom")

    run()


def test_letter_endpoint(centre: RunningCentre, client: httpx.Client) -> None:
    _document_fuzz(
        centre,
        client,
        "/v1/letter",
        ["batch_id", "item", "sender_name", "postal_address", "received_date"],
    )


def test_fax_endpoint(centre: RunningCentre, client: httpx.Client) -> None:
    _document_fuzz(
        centre, client, "/v1/fax", ["fax_id", "called_number", "calling_number", "csid", "pages"]
    )
