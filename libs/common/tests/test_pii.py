import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.common.compliance.pii import is_medicare, is_tfn, luhn_valid, mask_sensitive

CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]
TFNS = ["123 456 782", "876543210", "12345677"]  # the last is an 8-digit (old) TFN
MEDICARE = ["2123 45670 1", "2953 36057 1"]


@pytest.mark.parametrize("card", CARDS)
def test_cards_keep_only_their_last_four(card: str) -> None:
    masked = mask_sensitive(f"Please charge {card} today.")
    assert masked.kinds == ["card"]
    digits = card.replace(" ", "").replace("-", "")
    assert masked.text == f"Please charge [card ending {digits[-4:]}] today."
    assert digits[:-4] not in masked.text.replace(" ", "")


@pytest.mark.parametrize("tfn", TFNS)
def test_tax_file_numbers_are_masked(tfn: str) -> None:
    masked = mask_sensitive(f"My TFN is {tfn}.")
    assert masked == mask_sensitive(f"My TFN is {tfn}.")
    assert masked.text == "My TFN is [TFN]." and masked.kinds == ["tfn"]


@pytest.mark.parametrize("number", MEDICARE)
def test_medicare_numbers_are_masked(number: str) -> None:
    masked = mask_sensitive(f"Medicare {number} please")
    assert masked.text == "Medicare [Medicare number] please" and masked.kinds == ["medicare"]


@pytest.mark.parametrize(
    "text",
    [
        "Order 4111 1111 1111 1112 (fails Luhn)",
        "TFN 123 456 789 does not pass its check",
        "Call me on +61 2 5550 1000 or 0412 345 678",
        "Invoice 2026-11-24, reference 20261124",
        "Account 12345678901234567890123 is too long to be a card",
    ],
)
def test_numbers_that_are_not_sensitive_survive(text: str) -> None:
    assert mask_sensitive(text).text == text
    assert mask_sensitive(text).kinds == []


def test_check_digit_algorithms() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert is_tfn("123456782") and not is_tfn("123456789")
    assert is_medicare("2123456701") and not is_medicare("2123456791")


def test_several_kinds_in_one_text() -> None:
    masked = mask_sensitive("card 4111111111111111, tfn 123456782, medicare 2123456701")
    assert masked.kinds == ["card", "tfn", "medicare"]
    assert "4111111111111111" not in masked.text and "123456782" not in masked.text


@given(st.text(max_size=300))
def test_masking_never_fails_and_is_idempotent(text: str) -> None:
    once = mask_sensitive(text)
    assert mask_sensitive(once.text).text == once.text
