"""The desktop's part of an erasure request: its copies of the customer's contacts, what agents'
desktops were told about them, the text of replies waiting for the gate, and the replies written
to the mail sink (without a relay)."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.utils import getaddresses
from pathlib import Path

from switchboard.common.envelope import Envelope
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.privacy import corrected_party, names_them, report, scrubbed
from switchboard.common.runtime import Transaction
from switchboard.desktop import inbox_store, store
from switchboard.desktop.context import Desktop

SERVICE = "desktop"


async def erase(tx: Transaction, event: Envelope[ErasureRequested], mail_sink: Path) -> None:
    asked, session = event.payload, tx.session
    ids = set(asked.contact_ids)
    contacts, replies = await store.erase_contacts(session, contact_ids=list(ids))
    told = 0
    for entry in await inbox_store.entries_about(session, contact_ids=list(ids)):
        entry.data = scrubbed(entry.data)
        session.add(entry)
        told += 1
    tx.after_commit(Desktop.of(tx).wakeups.forget)  # streams read the scrubbed copies
    files = await asyncio.to_thread(_erase_replies, mail_sink, asked)
    await report(
        tx,
        event,
        SERVICE,
        {
            "contacts": contacts,
            "inbox_entries": told,
            "outbound_texts": replies,
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
    for contact in await store.contacts(tx.session, contact_ids=correction.contact_ids):
        contact.customer_name, contact.customer_email, contact.customer_phone = corrected_party(
            correction, contact.customer_name, contact.customer_email, contact.customer_phone
        )
        tx.session.add(contact)
