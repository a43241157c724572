"""One redaction layer for everything written for operators rather than for the record: log lines,
span attributes and events, error reports, dead-letter reasons. Ids stay; personal details go.

- values under keys that hold personal details (names, addresses, message text ...) are replaced
  whole, since no pattern finds a name;
- every other string is scanned for email addresses, phone numbers, street addresses, and card,
  TFN and Medicare numbers (by their check digits), each replaced by a marker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from switchboard.common.compliance.pii import mask_sensitive

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "name",
        "customer_name",
        "sender_name",
        "caller_name",
        "display_name",
        "email",
        "sender_address",
        "customer_address",
        "recipient",
        "phone",
        "ani",
        "callback_number",
        "calling_number",
        "csid",
        "address",
        "postal_address",
        "street",
        "text",
        "body",
        "subject",
        "notes",
        "content",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.*-])(?:\+\d[\d ()-]{6,17}\d|\(?0\d\)?(?:[ -]?\d){8})(?![\w-])")
_STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?(?:/\d{1,5})?\s+(?:[A-Z][\w'-]*\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Crescent|Cres|Parade|Pde|"
    r"Highway|Hwy|Terrace|Tce|Boulevard|Blvd|Way|Close|Cl|Circuit|Cct|Grove|Gr)\b\.?"
)


_NO_DETAILS = re.compile(r"[^\d@]*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""What none of the patterns can match: text without a digit or an `@` (each pattern needs one),
or a UUID (our ids). Most of a log line is one or the other, and skipping them halves its cost."""


def redact(text: str) -> str:
    if _NO_DETAILS.fullmatch(text):
        return text
    text = mask_sensitive(text).text
    text = _EMAIL.sub("[email]", text)
    text = _STREET.sub("[address]", text)
    return _PHONE.sub("[phone]", text)


def redact_value(value: Any, key: str | None = None) -> Any:
    if value is None or isinstance(value, int | float):  # bool is an int
        return value
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return (
            type(value)(redact_value(v) for v in value)
            if isinstance(value, tuple)
            else [redact_value(v) for v in value]
        )
    return value


_LOGGING_OWN = frozenset({"timestamp", "level", "logger", "service", "trace_id", "span_id"})
"""What the logging set-up itself adds to every line (switchboard.common.logging): never a
personal detail, and scanning the time and the trace's ids was a third of a line's cost."""


def redact_log_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> dict[str, Any]:
    """structlog processor: runs last before rendering, over structlog's and the stdlib's lines."""
    return {
        key: value if key in _LOGGING_OWN else redact_value(value, key)
        for key, value in event_dict.items()
    }
