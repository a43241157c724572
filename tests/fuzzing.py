"""Hostile input for the fuzz tests of intake's parsers (unit tier, thousands of examples) and of
its endpoints (integration tier, signed as a channel system would sign them): damaged copies of
valid input, random bytes and JSON, and the hostile shapes that once took intake down (MIME nested
past its limits, too many parts and recipients, headers over their size, a missing boundary, JSON
nested deeper than any event, a form of too many parts)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from switchboard.cli import samples
from switchboard.cli.demo import form


def fuzz(examples: int) -> settings:
    """Hypothesis settings for `examples` examples, the same ones on every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


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


EMAIL_BODIES = (
    st.binary(max_size=3000)
    | mutated(VALID_EMAIL)
    | st.sampled_from(HOSTILE_EMAILS)
    | st.sampled_from(HOSTILE_EMAILS).flatmap(mutated)
)
"""What an email endpoint or parser is given: random bytes, damaged email, the hostile seeds."""
CTI_BODIES = (
    cti_events.map(lambda e: json.dumps(e).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | st.sampled_from(HOSTILE_CTI).flatmap(mutated)
)
"""What a call-event endpoint or parser is given."""

LETTER_FIELDS = ["batch_id", "item", "sender_name", "postal_address", "received_date"]
FAX_FIELDS = ["fax_id", "called_number", "calling_number", "csid", "pages"]


@st.composite
def forms(draw: st.DrawFn, names: list[str]) -> tuple[bytes, str]:
    """A letter's or fax's form (a body and its Content-Type): damaged fields, a damaged or
    missing document, too many parts, or not multipart at all."""
    fields = draw(
        st.dictionaries(
            st.sampled_from(names),
            st.text(max_size=40).filter(lambda t: "\r" not in t and "\n" not in t),
        )
    )
    document = draw(
        st.none() | st.binary(max_size=500) | st.sampled_from(DOCUMENTS).flatmap(mutated)
    )
    if draw(st.booleans()):  # more form parts than any letter or fax has
        fields = {**fields, **{f"extra{n}": "x" for n in range(25)}}
    body, content_type = form(fields, document)
    if draw(st.booleans()):  # not even multipart
        body = draw(st.binary(max_size=400))
    return body, content_type
