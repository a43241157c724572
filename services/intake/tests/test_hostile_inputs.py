"""Inputs we did not write: each is refused with a 4xx reason before it costs more than its limits
allow, or read whole with a warning saying what was repaired. None raises anything but
InvalidInput, and none takes long."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from PIL import Image

from switchboard.common.errors import InvalidInput
from switchboard.common.signing import signature
from switchboard.intake.adapters.documents import decode
from switchboard.intake.adapters.email import parse_email
from switchboard.intake.adapters.multipart import parse_form
from switchboard.intake.adapters.phone import parse_cti
from switchboard.intake.channels import TEXT_BUDGET_BYTES, fitted
from switchboard.intake.domain import Unauthenticated, check_signature, plausible_event_time

HEAD = b"From: Jordan <jordan@example.net>\r\nTo: help@acme.example\r\nMIME-Version: 1.0\r\n"


def _refused(call: object, *args: object, status: int, match: str, **kwargs: object) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match=match) as refusal:
        call(*args, **kwargs)  # type: ignore[operator]
    assert refusal.value.status == status
    assert time.perf_counter() - started < 2.0, "refused only after the work it was to prevent"


# -- the defects the chaos run found ----------------------------------------------------------


def test_a_megabyte_subject_is_refused_as_over_the_header_limit() -> None:
    raw = HEAD + b"Subject: " + b"x" * 1_100_000 + b"\r\n\r\nhello\r\n"
    _refused(parse_email, raw, status=413, match="header 'Subject' of 1,100,009 bytes")


def test_a_long_subject_under_the_limit_is_cut_with_a_warning() -> None:
    raw = HEAD + b"Subject: " + b"word " * 2000 + b"\r\n\r\nhello\r\n"
    parsed = parse_email(raw)
    assert len(parsed.subject) == 2000
    assert "subject truncated to 2000 characters" in parsed.warnings


def test_fifty_thousand_recipients_are_refused_before_the_addresses_are_parsed() -> None:
    to = ", ".join(f"u{n}@example.org" for n in range(50_000)).encode()
    raw = b"From: a@example.net\r\nTo: " + to + b"\r\nSubject: s\r\n\r\nhi\r\n"
    _refused(parse_email, raw, status=413, match="header 'To'")
    few = ", ".join(f"u{n}@example.org" for n in range(501)).encode()
    raw = b"From: a@example.net\r\nTo: " + few + b"\r\nSubject: s\r\n\r\nhi\r\n"
    _refused(parse_email, raw, status=413, match="501 recipient addresses is over the limit")


def test_an_email_nested_three_thousand_multiparts_deep_is_refused() -> None:
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(3000)
    )
    raw = HEAD + b"Subject: deep\r\n" + body + b"Content-Type: text/plain\r\n\r\nhi\r\n"
    _refused(parse_email, raw, status=413, match="3,000 multipart containers")


def test_an_email_of_too_many_parts_is_refused() -> None:
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(600))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + parts + b"--p--\r\n"
    _refused(parse_email, raw, status=413, match="over 500 MIME parts")


def test_a_hundred_thousand_form_parts_are_refused_before_they_are_parsed() -> None:
    body = b"".join(
        b'--f\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nx\r\n' % n
        for n in range(100_000)
    )
    _refused(
        parse_form,
        "multipart/form-data; boundary=f",
        body + b"--f--\r\n",
        status=413,
        match="100,000 form parts is over the limit of 20",
    )


def test_a_phone_event_of_twenty_thousand_brackets_is_refused() -> None:
    _refused(parse_cti, b"[" * 20_000 + b"]" * 20_000, status=400, match="nested deeper than 8")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    event = {
        "event": "offered",
        "call_id": "[[[[[[[[[[[[",
        "at": "2026-12-03T09:00:00+00:00",
        "dnis": "+61255501000",
        "caller_name": '{{{{{{{{{{{{\\"[[',
    }
    assert parse_cti(json.dumps(event).encode()).call_id == "[[[[[[[[[[[["


def test_a_timestamp_of_four_hundred_digits_is_unauthenticated_not_a_crash() -> None:
    huge = "1" + "0" * 399
    with pytest.raises(Unauthenticated, match="not UNIX seconds"):
        check_signature(
            secret="s",
            timestamp=huge,
            presented=signature("s", 1, b""),
            body=b"",
            now=time.time(),
            window_seconds=300,
        )


@pytest.mark.parametrize("year", [1, 9999])
def test_a_call_event_dated_in_year_one_or_9999_is_refused(year: int) -> None:
    at = datetime(year, 6, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="check the channel system's clock"):
        plausible_event_time(
            at, now=datetime.now(UTC), max_age=timedelta(hours=24), max_ahead=timedelta(minutes=5)
        )
    plausible_event_time(
        datetime.now(UTC) - timedelta(minutes=3),
        now=datetime.now(UTC),
        max_age=timedelta(hours=24),
        max_ahead=timedelta(minutes=5),
    )


def _tiff(
    pages: int, *, size: tuple[int, int] = (64, 64), dpi: tuple[int, int] = (200, 200)
) -> bytes:
    frames = [Image.new("1", size, 1) for _ in range(pages)]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=frames[1:],
        dpi=dpi,
        compression="group4",
    )
    return buffer.getvalue()


def test_a_two_thousand_page_tiff_is_refused_by_its_page_count_before_any_page_is_decoded() -> None:
    _refused(
        decode,
        _tiff(2000),
        max_pages=50,
        max_pixels=40_000_000,
        status=413,
        match="2000 pages is over the 50-page limit",
    )


def test_a_page_over_the_pixel_limit_is_refused() -> None:
    _refused(
        decode,
        _tiff(1, size=(5000, 5000)),
        max_pages=50,
        max_pixels=10_000_000,
        status=413,
        match="5000x5000 pixels",
    )


def test_a_standard_resolution_fax_is_squared_before_ocr() -> None:
    decoded = decode(
        _tiff(1, size=(1728, 1100), dpi=(204, 98)), max_pages=50, max_pixels=40_000_000
    )
    [page] = decoded.pages
    assert isinstance(page, bytes)
    assert Image.open(io.BytesIO(page)).size == (1728, round(1100 * 204 / 98))
    assert "pages scanned at 204x98 dpi were squared before OCR" in decoded.warnings


# -- nothing the customer wrote is dropped ------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["multipart/mixed", 'multipart/mixed; boundary="not-the-one"']
)
def test_a_multipart_with_a_missing_or_wrong_boundary_keeps_its_text_and_attachment(
    content_type: str,
) -> None:
    raw = (
        HEAD
        + f"Subject: s\r\nContent-Type: {content_type}\r\n\r\n".encode()
        + (
            b"--real\r\nContent-Type: text/plain\r\n\r\nMy meter reads 4411.\r\n"
            b"--real\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            b'filename="meter.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n'
            b"--real--\r\n"
        )
    )
    parsed = parse_email(raw)
    assert parsed.text == "My meter reads 4411."
    assert [(a.filename, a.data) for a in parsed.attachments] == [("meter.pdf", b"%PDF-1.4")]
    assert any(w.startswith("BoundaryRepaired") for w in parsed.warnings)


def test_a_multipart_whose_parts_cannot_be_found_keeps_its_raw_body() -> None:
    raw = HEAD + b"Subject: s\r\nContent-Type: multipart/mixed\r\n\r\nJust my words, no parts.\r\n"
    parsed = parse_email(raw)
    assert parsed.text == "Just my words, no parts."
    assert "multipart without readable parts: its raw body kept as text" in parsed.warnings


def _enclosed(subject: str, text: str) -> EmailMessage:
    inner = EmailMessage()
    inner["From"] = "Sam <sam@example.org>"
    inner["Subject"] = subject
    inner.set_content(text)
    return inner


def test_a_forward_keeps_the_forwarded_message_as_text_and_as_an_eml() -> None:
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "jordan@example.net", "help@acme.example", "Fw"
    outer.set_content("See below, this is what my landlord sent.")
    outer.add_attachment(_enclosed("Rent", "The power is in your name from May."))
    parsed = parse_email(outer.as_bytes())
    assert parsed.text.startswith("See below, this is what my landlord sent.")
    assert "--- Enclosed message (From: Sam <sam@example.org>; Subject: Rent) ---" in parsed.text
    assert "The power is in your name from May." in parsed.text
    [eml] = parsed.attachments
    assert eml.content_type == "message/rfc822" and b"Subject: Rent" in eml.data


def test_a_digest_keeps_each_message() -> None:
    raw = HEAD + (
        b'Subject: Digest\r\nContent-Type: multipart/digest; boundary="d"\r\n\r\n'
        b"--d\r\n\r\nFrom: sam@example.org\r\nSubject: Item 1\r\n\r\nWords of item 1.\r\n"
        b"--d\r\n\r\nFrom: kim@example.org\r\nSubject: Item 2\r\n\r\nWords of item 2.\r\n"
        b"--d--\r\n"
    )
    parsed = parse_email(raw)
    assert "Words of item 1." in parsed.text and "Words of item 2." in parsed.text
    assert "(From: kim@example.org; Subject: Item 2)" in parsed.text
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"] * 2


def test_a_bounce_keeps_its_delivery_report() -> None:
    raw = HEAD + (
        b"Subject: Undeliverable\r\nContent-Type: multipart/report; report-type=delivery-status;"
        b' boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n'
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"
        b"\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--r--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.text.startswith("Delivery failed.")
    assert "--- Delivery report ---" in parsed.text and "Status: 5.1.1" in parsed.text
    assert "delivery_report" in parsed.flags
    assert [a.filename for a in parsed.attachments] == ["delivery-status.txt"]


def test_crlf_line_endings_are_read_as_newlines() -> None:
    raw = HEAD + b"Subject: s\r\n\r\nfirst line\r\nsecond line\r\n"
    assert parse_email(raw).text == "first line\nsecond line"


def test_text_that_would_overflow_one_event_is_cut_to_fit_with_a_warning() -> None:
    warnings: list[str] = []
    text = fitted("\u0001" * 200_000, warnings)  # 1.2 MB as JSON
    assert len(json.dumps(text, ensure_ascii=False).encode()) <= TEXT_BUDGET_BYTES
    assert warnings == [f"text cut to {len(text)} characters to fit one event"]
    assert fitted("plain words", warnings) == "plain words" and len(warnings) == 1
