"""Masking of numbers that must never leave intake in the clear: payment card numbers (PCI DSS),
Australian Tax File Numbers and Medicare card numbers.

A run of digits (spaces or dashes between them allowed) is masked only when its check digits say it
is one of these, so order numbers, phone numbers and dates survive. Card numbers keep their last
four digits, as receipts print them; TFNs and Medicare numbers keep nothing.

    masked = mask_sensitive("card 4111 1111 1111 1111, TFN 123 456 782")
    masked.text   == "card [card ending 1111], TFN [TFN]"
    masked.kinds  == ["card", "tfn"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Digits, each optionally followed by one space or dash, 8 to 19 digits in all; not part of a
# longer number, a word, or a phone number written with a leading "+".
_CANDIDATE = re.compile(r"(?<![\w+])(?<!\w-)\d(?:[ -]?\d){7,18}(?!\w)(?!-\w)")
"""A run of 8 to 19 digits, spaced or hyphenated, that is a whole token: not part of a word or of an
identifier joined by hyphens (the digit groups of a UUID are never a TFN)."""
_TFN_WEIGHTS = {9: (1, 4, 3, 7, 5, 8, 6, 9, 10), 8: (10, 7, 8, 4, 6, 3, 5, 1)}
_MEDICARE_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9)

CARD, TFN, MEDICARE = "card", "tfn", "medicare"


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: list[str] = field(default_factory=list)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def holds_card_number(text: str) -> bool:
    """Whether `text` holds a run of 12 to 19 digits (spaces, dots or hyphens between them allowed)
    that passes the Luhn check: what a payment token must never look like."""
    joined = re.sub(r"(?<=\d)[ .-](?=\d)", "", text)  # 5500-0000-0000-0004
    return any(luhn_valid(run) for run in re.findall(r"\d{12,19}", joined))


def is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_valid(digits)


def is_tfn(digits: str) -> bool:
    weights = _TFN_WEIGHTS.get(len(digits))
    if weights is None:
        return False
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def is_medicare(digits: str) -> bool:
    """10 digits (card number and issue number), or 11 with the individual reference number."""
    if len(digits) not in (10, 11) or digits[0] not in "23456" or digits[9] == "0":
        return False
    check = sum(int(d) * w for d, w in zip(digits[:8], _MEDICARE_WEIGHTS, strict=True)) % 10
    return check == int(digits[8]) and (len(digits) == 10 or digits[10] != "0")


def classify_number(digits: str) -> str | None:
    if is_card(digits):
        return CARD
    if is_medicare(digits):
        return MEDICARE
    if is_tfn(digits):
        return TFN
    return None


def mask_sensitive(text: str) -> Masked:
    kinds: list[str] = []

    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group())
        kind = classify_number(digits)
        if kind is None:
            return match.group()
        if kind not in kinds:
            kinds.append(kind)
        return {CARD: f"[card ending {digits[-4:]}]", TFN: "[TFN]", MEDICARE: "[Medicare number]"}[
            kind
        ]

    return Masked(_CANDIDATE.sub(replace, text), kinds)


def merge_kinds(*groups: list[str]) -> list[str]:
    return list(dict.fromkeys(kind for group in groups for kind in group))
