"""The media that reach field staff and customers. Email goes to the SMTP relay named in settings
(embedded default: the mail sink folder); SMS, the message service and fax go to their gateways'
drop folders (`<var>/field-outbox/<medium>/`, one JSON file per message, named by its id, so a
message delivered twice is one file). A phone call is made by the dispatcher; its record is the
log of what they said."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from switchboard.common import mail
from switchboard.dispatch.messages_store import Sent


@dataclass(frozen=True)
class Media:
    mailer: mail.Mailer
    outbox: Path
    sender: str


async def deliver(media: Media, sent: Sent) -> None:
    if sent.medium == "phone":
        return  # the dispatcher's call, already made; `sent` is its log
    if sent.medium == "email":
        await mail.send(media.mailer, _email(sent, media.sender))
        return
    await asyncio.to_thread(_drop, media.outbox / sent.medium, sent)


def _email(sent: Sent, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.header_text(sent.address, limit=320)
    message["Subject"] = mail.header_text(sent.subject)
    message["Date"] = format_datetime(sent.created_at)
    message["Message-ID"] = f"<{sent.sent_id}@dispatch.switchboard.invalid>"  # sent twice: one
    message.set_content(sent.text)
    return message


def _drop(folder: Path, sent: Sent) -> None:
    document = {
        "id": sent.sent_id,
        "to": sent.address,
        "subject": sent.subject,
        "text": sent.text,
        "job_id": sent.job_id,
        "message_id": sent.message_id,
    }
    mail.write_whole(folder, f"{sent.sent_id}.json", json.dumps(document, indent=2).encode())
