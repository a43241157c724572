import pytest

from switchboard.common.compliance.pii import is_tfn
from switchboard.common.compliance.redaction import REDACTED, redact, redact_log_event


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from jordan.q@example.net today", "from [email] today"),
        (
            "call +61412987654 or 0412 987 654 or (02) 5550 1234",
            "call [phone] or [phone] or [phone]",
        ),
        ("lives at 17 Larkspur Street, Exampleton", "lives at [address], Exampleton"),
        ("card 4111 1111 1111 1111", "card [card ending 1111]"),
        ("TFN 123 456 782, Medicare 2123 45670 1", "TFN [TFN], Medicare [Medicare number]"),
    ],
)
def test_personal_details_in_text_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "contact 01a20b69-cbbc-7046-926a-800be12e9362 queued",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "2026-11-24T02:34:00.860927+00:00 took 12.5 ms on port 9092",
        "number *********678 blocked",
        "topic contact.received partition 3 offset 1000023",
    ],
)
def test_ids_times_and_masked_numbers_survive(text: str) -> None:
    assert redact(text) == text


def test_log_events_redact_by_key_and_by_content() -> None:
    event = {
        "event": "reply from jordan.q@example.net",
        "customer_name": "Jordan Quixote",
        "contact_id": "01a20b69-cbbc-7046-926a-800be12e9362",
        "details": {"postal_address": "17 Larkspur Street", "pages": 2},
        "exception": "ValueError: '0412 987 654' is not valid",
    }
    assert redact_log_event(None, "info", event) == {
        "event": "reply from [email]",
        "customer_name": REDACTED,
        "contact_id": "01a20b69-cbbc-7046-926a-800be12e9362",
        "details": {"postal_address": REDACTED, "pages": 2},
        "exception": "ValueError: '[phone]' is not valid",
    }


def _uuid_with_a_tfn_inside() -> str:
    """A contact id whose middle digit groups, read together, pass the TFN check."""
    for n in range(10_000_000, 100_000_000):
        digits = str(n)
        if is_tfn(digits):
            return f"01a23809-{digits[:4]}-{digits[4:]}-b3ee-0123456789ab"
    raise AssertionError("no 8-digit TFN")


def test_redaction_never_reaches_inside_an_id() -> None:
    contact_id = _uuid_with_a_tfn_inside()
    assert is_tfn(contact_id.split("-")[1] + contact_id.split("-")[2])
    assert redact(f"contact {contact_id} assigned") == f"contact {contact_id} assigned"
    assert redact_log_event(None, "info", {"contact_id": contact_id})["contact_id"] == contact_id
    assert redact("her TFN is 123 456 782, ref X-1") == "her TFN is [TFN], ref X-1"
