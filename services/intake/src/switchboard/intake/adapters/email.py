"""RFC 5322 email → a normalised contact.

Parsed with the standard library (policy `default`: encoded words and charsets decoded; each
header field parsed once, `READ_ONCE`). A message that cannot be a contact (empty, binary, no
sender, no recipient) raises `InvalidInput` with the reason; one that is damaged but salvageable (an
unknown charset, a missing Message-ID) is accepted with `warnings` saying what was repaired.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import Any, cast

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.html_text import html_to_text
from switchboard.intake.adapters.limits import EmailLimits, check_email, header_block

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


MAX_SUBJECT_CHARS = 2000


class _ReadOncePolicy(EmailPolicy):
    """`policy.default`, but a header field is parsed once however often it is asked for.

    The standard library parses a field again on every look-up, and reading one email looks up
    its Content-Type about ten times (finding the body, its charset, the attachments, the
    automation flags) and its address fields twice: a fifth of intake's work per email went to
    parsing the same fields again. A parsed field is an immutable `str`, so one parse serves
    every look-up of the same name and value."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if type(value) is str:  # as the parser keeps a field (a parsed one is returned as it is)
            return _parsed_field(name, value)
        return super().header_fetch_parse(name, value)


@functools.lru_cache(maxsize=512)
def _parsed_field(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


READ_ONCE = _ReadOncePolicy()


DEFAULT_LIMITS = EmailLimits()


def parse_email(
    raw: bytes, *, max_text_chars: int = 200_000, limits: EmailLimits = DEFAULT_LIMITS
) -> ParsedEmail:
    if not raw.strip():
        raise InvalidInput("empty message", status=400)
    if b"\x00" in header_block(raw):
        raise InvalidInput("binary data is not an RFC 5322 message")
    check_email(raw, limits)
    try:
        parsed = BytesParser(policy=READ_ONCE).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        message = _salvaged(parsed, raw)
    except RecursionError:
        raise InvalidInput("MIME parts nested too deeply", status=413) from None
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

    subject = _header(message, "Subject", warnings) or ""
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[:MAX_SUBJECT_CHARS]
        warnings.append(f"subject truncated to {MAX_SUBJECT_CHARS} characters")
    return ParsedEmail(
        message_id=message_id,
        sender_address=sender_address,
        sender_name=sender_name,
        recipients=recipients,
        to=to,
        cc=cc,
        subject=subject,
        text=text,
        in_reply_to=_msg_id(_header(message, "In-Reply-To", warnings)),
        references=_msg_ids(_header(message, "References", warnings)),
        attachments=_attachments(message, warnings),
        flags=_automation_flags(message, warnings),
        warnings=warnings + _defects(message),
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


def _salvaged(message: EmailMessage, raw: bytes) -> EmailMessage:
    """A multipart whose declared boundary is missing or not the one its body uses, read again
    with the boundary the body does use (the first `--token` line), when that finds parts."""
    if message.get_content_maintype() != "multipart" or message.is_multipart():
        return message
    body = message.get_payload()
    found = re.search(r"^--([^\s-]\S{0,69})\s*$", body if isinstance(body, str) else "", re.M)
    if found is None:
        return message
    head = header_block(raw)
    fixed_type = f'Content-Type: multipart/mixed; boundary="{found.group(1)}"'.encode()
    fields = [
        field
        for field in re.split(rb"\r?\n(?![ \t])", head)
        if not field.lower().startswith(b"content-type:")
    ]
    repaired = b"\r\n".join([*fields, fixed_type]) + raw[len(head) :]
    again = BytesParser(policy=READ_ONCE).parsebytes(repaired)
    if not again.is_multipart():
        return message
    assert isinstance(again, EmailMessage)
    again.defects.append(BoundaryRepaired())
    return again


class BoundaryRepaired(errors.MessageDefect):
    """The multipart boundary was missing or not the one its body uses; read with the one it uses."""


def _defects(message: EmailMessage) -> list[str]:
    found = []
    for part in message.walk():
        for defect in part.defects:
            doc = (type(defect).__doc__ or "").strip().splitlines()
            found.append(f"{type(defect).__name__}" + (f": {doc[0]}" if doc else ""))
    return list(dict.fromkeys(found))[:10]


def _body_text(message: EmailMessage, warnings: list[str]) -> str:
    """The message's own text, then each forwarded or digested message's, then a bounce's report.
    With none of these, whatever text its parts hold (or, for a multipart whose parts cannot be
    found, its raw body)."""
    texts = [_main_text(message, warnings)]
    for inner in _inner_messages(message):
        heading = "; ".join(
            f"{name}: {_header(inner, name, warnings)}"
            for name in ("From", "Date", "Subject")
            if inner.get(name)
        )
        inner_text = _main_text(inner, warnings) or _any_text(inner, warnings)
        texts.append(f"--- Enclosed message ({heading}) ---\n{inner_text}".strip())
    if message.get_content_type() == "multipart/report":
        texts.extend(
            "--- Delivery report ---\n" + _delivery_status(part)
            for part in message.walk()
            if part.get_content_type() == "message/delivery-status"
        )
    if any(texts):
        return "\n\n".join(t for t in texts if t)
    text = _any_text(message, warnings)
    if text:
        warnings.append("no text body where one is expected: the text of its other parts kept")
    return text


def _main_text(message: EmailMessage, warnings: list[str]) -> str:
    if message.get_content_type() in ("message/rfc822", "multipart/digest"):
        return ""  # all it holds are enclosed messages
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # a damaged structure get_body cannot walk
        part = None
    return _text_of(part, warnings) if isinstance(part, EmailMessage) else ""


def _text_of(part: EmailMessage, warnings: list[str]) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError) as error:
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
        warnings.append(
            f"body charset could not be decoded ({type(error).__name__}); read as UTF-8"
        )
    if not isinstance(content, str):
        return ""
    content = clean(content, warnings).replace("\r\n", "\n").replace("\r", "\n")
    return html_to_text(content) if part.get_content_subtype() == "html" else content.strip()


def _any_text(message: EmailMessage, warnings: list[str]) -> str:
    """Every text part's text, in order; for a multipart with no parts to be found, its raw body."""
    if message.get_content_maintype() == "multipart" and not message.is_multipart():
        body = message.get_payload()
        if isinstance(body, str) and body.strip():
            warnings.append("multipart without readable parts: its raw body kept as text")
            return clean(body, warnings).strip()
    texts = [
        _text_of(part, warnings)
        for part in message.walk()
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "text"
    ]
    return "\n\n".join(t for t in texts if t)


MAX_ENCLOSED_MESSAGES = 50


def _inner_messages(message: EmailMessage) -> list[EmailMessage]:
    """Messages carried whole inside this one (forwarded as message/rfc822, or a digest's), the
    outermost first."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage):
                found.append(inner[0])
    return found[:MAX_ENCLOSED_MESSAGES]


def _delivery_status(part: Message) -> str:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return str(blocks).strip()
    return "\n\n".join(
        "\n".join(f"{name}: {value}" for name, value in block.items())
        for block in blocks
        if isinstance(block, Message) and block.keys()
    )


def _attachments(message: EmailMessage, warnings: list[str]) -> list[Attachment]:
    """Attached files; an enclosed message as its `.eml`, a delivery report as text."""
    found: list[Attachment] = []
    parts: list[Message]
    if not message.is_multipart() or message.get_content_type() == "message/rfc822":
        parts = [message] if message.get_content_type() == "message/rfc822" else []
    elif message.get_content_type() == "multipart/digest":
        parts = list(message.iter_parts())
    else:
        parts = list(message.iter_attachments())
    for part in parts:
        assert isinstance(part, EmailMessage)
        filename = part.get_filename()
        data: object
        if part.get_content_type() == "message/rfc822":
            data, filename = _enclosed_bytes(part), filename or "enclosed-message.eml"
        elif part.get_content_type() == "message/delivery-status":
            data, filename = _delivery_status(part).encode(), filename or "delivery-status.txt"
        else:
            try:
                data = part.get_payload(decode=True)
            except Exception:
                data = None
        if not isinstance(data, bytes):
            warnings.append(f"attachment {filename!r} could not be decoded")
            continue
        found.append(
            Attachment(
                clean(filename, warnings) if filename else None, part.get_content_type(), data
            )
        )
    return found


def _enclosed_bytes(part: EmailMessage) -> bytes | None:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        try:
            return inner[0].as_bytes(policy=policy.default)
        except Exception:  # an enclosed message too damaged to write out again
            return None
    return None


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
    if message.get_content_type() == "multipart/report":
        flags.append("delivery_report")
    return flags
