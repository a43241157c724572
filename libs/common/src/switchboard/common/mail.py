"""Handing email to the SMTP relay named in a service's settings or, in the embedded default,
writing it to the mail sink folder (one `.eml` per message, named by its Message-ID, so a message
sent twice is one file)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


@dataclass(frozen=True)
class Mailer:
    relay: tuple[str, int] | None
    sink: Path


def mailer(relay: str | None, sink: Path) -> Mailer:
    if relay is None:
        return Mailer(None, sink)
    host, _, port = relay.rpartition(":")
    return Mailer((host or "127.0.0.1", int(port or 25)), sink)


async def send(mailer: Mailer, message: EmailMessage) -> None:
    if mailer.relay is None:
        await asyncio.to_thread(_write_to_sink, mailer.sink, message)
    else:
        await asyncio.to_thread(_relay, mailer.relay, message)


def _write_to_sink(sink: Path, message: EmailMessage) -> None:
    """Written whole then renamed."""
    sink.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32] + ".eml"
    partial = sink / f".{name}.partial"
    partial.write_bytes(bytes(message))
    os.replace(partial, sink / name)


def _relay(relay: tuple[str, int], message: EmailMessage) -> None:
    with smtplib.SMTP(relay[0], relay[1], timeout=30) as smtp:
        smtp.send_message(message)
