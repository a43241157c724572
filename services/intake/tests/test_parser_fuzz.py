"""Thousands of malformed inputs per parser: each is read, or refused with InvalidInput and a 4xx
status and its reason; nothing else is ever raised (which intake would answer 500). The same
kinds of input also go the whole way in through HTTP (`tests/integration/test_intake_fuzz.py`)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.documents import decode
from switchboard.intake.adapters.email import parse_email
from switchboard.intake.adapters.multipart import parse_form
from switchboard.intake.adapters.phone import parse_cti
from tests.fuzzing import (
    CTI_BODIES,
    EMAIL_BODIES,
    FAX_FIELDS,
    LETTER_FIELDS,
    forms,
    fuzz,
)

FUZZ = fuzz(1000)


def _read_or_refused(parse: Callable[[], object]) -> None:
    try:
        parse()
    except InvalidInput as refusal:
        assert 400 <= refusal.status < 500 and refusal.reason


@FUZZ
@given(body=EMAIL_BODIES)
def test_an_email_is_read_or_refused(body: bytes) -> None:
    _read_or_refused(lambda: parse_email(body))


@FUZZ
@given(body=CTI_BODIES)
def test_a_call_event_is_read_or_refused(body: bytes) -> None:
    _read_or_refused(lambda: parse_cti(body))


@FUZZ
@given(posted=forms(LETTER_FIELDS) | forms(FAX_FIELDS))
def test_a_letter_or_fax_form_and_its_document_are_read_or_refused(
    posted: tuple[bytes, str],
) -> None:
    body, content_type = posted

    def parse() -> None:
        parts = parse_form(content_type, body)
        if "file" in parts:
            decode(parts["file"].data, max_pages=20, max_pixels=40_000_000)

    _read_or_refused(parse)
