"""Phone numbers in E.164, the one form Switchboard stores, compares and publishes."""

from __future__ import annotations

import phonenumbers

from switchboard.common.errors import InvalidInput


def e164(number: str, region: str = "AU") -> str:
    """`number` in E.164, read as written in `region` when it has no country code."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{number!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"{number!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
