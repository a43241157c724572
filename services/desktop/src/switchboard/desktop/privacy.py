"""The desktop's part of an erasure request: its copies of the customer's contacts, what agents'
desktops were told about them, the text of replies waiting for the gate, and the replies written
to the mail sink (without a relay)."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from switchboard.common.envelope import Envelope
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.privacy import corrected_party, names_them, report, scrubbed
from switchboard.common.runtime import Transaction
from switchboard.desktop import inbox_store, store

SERVICE = "desktop"


async def erase(tx: Transaction, event: Envelope[ErasureRequested], mail_sink: Path) -> None:
    asked, session = event.payload, tx.session
    ids = set(asked.contact_ids)
    contacts = await session.exec(
        update(store.DesktopContact)
        .where(col(store.DesktopContact.contact_id).in_(ids))
        .values(
            customer_name=None,
            customer_email=None,
            customer_phone=None,
            subject=None,
            text=None,
            attachments=[],
            transcript=[],
            message_id=None,
            references=[],
        )
    )
    replies = await session.exec(
        update(store.OutboundByAgent)
        .where(col(store.OutboundByAgent.contact_id).in_(ids))
        .values(text=None)
    )
    told = 0
    about_them = col(inbox_store.InboxEntry.data)["contact_id"].as_string().in_(ids)
    for entry in await session.exec(select(inbox_store.InboxEntry).where(about_them)):
        entry.data = scrubbed(entry.data)
        session.add(entry)
        told += 1
    files = await asyncio.to_thread(_erase_replies, mail_sink, asked)
    await report(
        tx,
        event,
        SERVICE,
        {
            "contacts": contacts.rowcount or 0,
            "inbox_entries": told,
            "outbound_texts": replies.rowcount or 0,
            "files": files,
        },
    )


def _erase_replies(mail_sink: Path, asked: ErasureRequested) -> int:
    """The replies in the mail sink addressed to the customer."""
    removed = 0
    for path in mail_sink.glob("*.eml") if mail_sink.is_dir() else []:
        message = message_from_bytes(path.read_bytes())
        to = [address for _, address in getaddresses(message.get_all("To", []))]
        if names_them(asked, *to):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def correct(tx: Transaction, event: Envelope[CustomerCorrected]) -> None:
    """The correction on the desktop's copies of the customer's contacts (APP 13)."""
    correction = event.payload
    query = select(store.DesktopContact).where(
        col(store.DesktopContact.contact_id).in_(correction.contact_ids)
    )
    for contact in await tx.session.exec(query):
        contact.customer_name, contact.customer_email, contact.customer_phone = corrected_party(
            correction, contact.customer_name, contact.customer_email, contact.customer_phone
        )
        tx.session.add(contact)
