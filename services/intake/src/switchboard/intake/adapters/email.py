"""RFC 5322 email → a normalised contact.

Parsed with the standard library (policy `default`: encoded words and charsets decoded). A message
that cannot be a contact (empty, binary, no sender, no recipient) raises `InvalidInput` with the
reason; one that is damaged but salvageable (an unknown charset, a missing Message-ID) is accepted
with `warnings` saying what was repaired.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import cast

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.html_text import html_to_text

RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_BULK_PRECEDENCE = {"bulk", "junk", "list"}


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ParsedEmail:
    message_id: str
    sender_address: str
    sender_name: str | None
    recipients: list[str]
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    in_reply_to: str | None
    references: list[str]
    attachments: list[Attachment] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_email(raw: bytes, *, max_text_chars: int = 200_000) -> ParsedEmail:
    if not raw.strip():
        raise InvalidInput("empty message", status=400)
    header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if b"\x00" in header_block:
        raise InvalidInput("binary data is not an RFC 5322 message")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise InvalidInput("no header fields: not an RFC 5322 message")
    warnings: list[str] = []

    sender_address, sender_name = _sender(message, warnings)
    to, cc = _addresses(message, "To"), _addresses(message, "Cc")
    recipients = list(
        dict.fromkeys(to + cc + [a for h in RECIPIENT_HEADERS[2:] for a in _addresses(message, h)])
    )
    if not recipients:
        raise InvalidInput("no recipient address (To, Cc, Delivered-To)")

    message_id = _msg_id(_header(message, "Message-ID", warnings))
    if message_id is None:
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        warnings.append("no Message-ID: identified by the message's hash")

    text = _body_text(message, warnings)
    if len(text) > max_text_chars:
        text = text[:max_text_chars]
        warnings.append(f"text truncated to {max_text_chars} characters")

    return ParsedEmail(
        message_id=message_id,
        sender_address=sender_address,
        sender_name=sender_name,
        recipients=recipients,
        to=to,
        cc=cc,
        subject=_header(message, "Subject", warnings) or "",
        text=text,
        in_reply_to=_msg_id(_header(message, "In-Reply-To", warnings)),
        references=_msg_ids(_header(message, "References", warnings)),
        attachments=_attachments(message, warnings),
        flags=_automation_flags(message, warnings),
        warnings=warnings + [str(d) for d in message.defects][:10],
    )


def clean(text: str, warnings: list[str] | None = None) -> str:
    """Text with undeclared 8-bit bytes (kept by the parser as lone surrogates) read as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if warnings is not None and "undeclared 8-bit bytes read as UTF-8" not in warnings:
            warnings.append("undeclared 8-bit bytes read as UTF-8")
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _header(message: EmailMessage, name: str, warnings: list[str]) -> str | None:
    try:
        value = message.get(name)
    except Exception as error:  # the header parser raises on some malformed values
        warnings.append(f"unreadable {name} header: {type(error).__name__}")
        return None
    return None if value is None else clean(str(value), warnings).strip()


def _sender(message: EmailMessage, warnings: list[str]) -> tuple[str, str | None]:
    """(address, display name) of the sender."""
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except Exception:
        addresses = ()
    for address in addresses:
        addr_spec = clean(cast(Address, address).addr_spec, warnings)
        if "@" in addr_spec and " " not in addr_spec:
            return addr_spec.lower(), clean(address.display_name, warnings) or None
    raise InvalidInput("no sender address in From")


def _addresses(message: EmailMessage, name: str) -> list[str]:
    try:
        values = [clean(str(v)) for v in message.get_all(name) or []]
    except Exception:
        return []
    return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]


def _msg_id(value: str | None) -> str | None:
    ids = _msg_ids(value)
    return ids[0] if ids else None


def _msg_ids(value: str | None) -> list[str]:
    if not value:
        return []
    return [token.strip("<>") for token in value.replace(",", " ").split() if token.strip("<>")]


def _body_text(message: EmailMessage, warnings: list[str]) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError) as error:
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
        warnings.append(
            f"body charset could not be decoded ({type(error).__name__}); read as UTF-8"
        )
    if not isinstance(content, str):
        return ""
    content = clean(content, warnings)
    return html_to_text(content) if part.get_content_subtype() == "html" else content.strip()


def _attachments(message: EmailMessage, warnings: list[str]) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if not isinstance(data, bytes):
            warnings.append(f"attachment {part.get_filename()!r} could not be decoded")
            continue
        filename = part.get_filename()
        found.append(
            Attachment(
                clean(filename, warnings) if filename else None, part.get_content_type(), data
            )
        )
    return found


def _automation_flags(message: EmailMessage, warnings: list[str]) -> list[str]:
    """Mail written by machines is recorded but never routed or answered (no mail loops)."""
    flags: list[str] = []
    auto_submitted = (_header(message, "Auto-Submitted", warnings) or "no").lower()
    if auto_submitted != "no" or message.get("X-Autoreply") or message.get("X-Autorespond"):
        flags.append("auto_reply")
    if (_header(message, "Precedence", warnings) or "").lower() in _BULK_PRECEDENCE:
        flags.append("bulk")
    if (_header(message, "Return-Path", warnings) or "").replace(" ", "") == "<>":
        flags.append("null_return_path")
    return flags
