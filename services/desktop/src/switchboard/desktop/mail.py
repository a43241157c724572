"""Agents' email replies, composed so the customer's mail client threads them under the customer's
message (Message-ID, In-Reply-To, References); `switchboard.common.mail` hands them to the relay or
the mail sink."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from switchboard.common.envelope import utcnow
from switchboard.common.events.desktop import ReplySent
from switchboard.common.mail import header_text


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain.rpartition("@")[2] or "switchboard.invalid")


def bracketed(message_id: str) -> str:
    """A Message-ID as the In-Reply-To and References headers need it: `<id@host>` (intake keeps
    the id without its angle brackets)."""
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def reply_subject(subject: str | None, token: str | None) -> str:
    """`Re: <subject>` once, with the conversation token that brings the customer's answer back to
    this conversation."""
    subject = (subject or "Your enquiry").strip()
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    if token and f"[{token}]" not in subject:
        subject = f"{subject} [{token}]"
    return subject


def compose(reply: ReplySent, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = header_text(reply.to, limit=320)
    message["Subject"] = header_text(reply.subject or "")
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = reply.message_id or new_message_id(sender)
    if reply.in_reply_to:
        message["In-Reply-To"] = reply.in_reply_to
    if reply.references:
        message["References"] = " ".join(reply.references)
    message.set_content(reply.text)
    return message
