"""Handing email to the SMTP relay named in a service's settings or, in the embedded default,
writing it to the mail sink folder (one `.eml` per message, named by its Message-ID, so a message
sent twice is one file).

A failure says whose it is, for the loop that sends: a message that cannot be written, or that the
relay refuses for good (5xx), is a `PermanentError` (set it aside); a relay that is away or answers
4xx is a `TransientError` (try again later)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import smtplib
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from switchboard.common.errors import PermanentError, TransientError


@dataclass(frozen=True)
class Mailer:
    relay: tuple[str, int] | None
    sink: Path


def mailer(relay: str | None, sink: Path) -> Mailer:
    if relay is None:
        return Mailer(None, sink)
    host, _, port = relay.rpartition(":")
    return Mailer((host or "127.0.0.1", int(port or 25)), sink)


def header_text(value: str, *, limit: int = 300) -> str:
    """`value` fit for a header: line breaks and other control or separator characters (which the
    email library rightly refuses in a header) become spaces, runs of spaces one, at most `limit`."""
    cleaned = "".join(" " if unicodedata.category(ch) in _NOT_IN_HEADERS else ch for ch in value)
    return " ".join(cleaned.split())[:limit]


_NOT_IN_HEADERS = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


async def send(mailer: Mailer, message: EmailMessage) -> None:
    try:
        if mailer.relay is None:
            await asyncio.to_thread(_write_to_sink, mailer.sink, message)
        else:
            await asyncio.to_thread(_relay, mailer.relay, message)
    except smtplib.SMTPResponseException as error:
        raise _refusal(error.smtp_code, error.smtp_error) from error
    except smtplib.SMTPRecipientsRefused as error:
        code, said = next(iter(error.recipients.values()), (550, b"refused"))
        raise _refusal(code, said) from error
    except (ValueError, TypeError, UnicodeError, LookupError) as error:
        raise PermanentError(f"the message cannot be written as email: {error}") from error


def _refusal(code: int, said: bytes | str) -> Exception:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    if 500 <= code < 600:
        return PermanentError(f"the mail relay refused the message for good: {code} {text}")
    return TransientError(f"the mail relay refused the message for now: {code} {text}")


def write_whole(folder: Path, name: str, data: bytes) -> None:
    """`folder/name` written whole then renamed into place, so a reader of the folder (a gateway,
    an operator) never sees half a file; written twice, it is one file."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_bytes(data)
    os.replace(partial, folder / name)


def _write_to_sink(sink: Path, message: EmailMessage) -> None:
    name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32] + ".eml"
    write_whole(sink, name, bytes(message))


def _relay(relay: tuple[str, int], message: EmailMessage) -> None:
    with smtplib.SMTP(relay[0], relay[1], timeout=30) as smtp:
        smtp.send_message(message)
