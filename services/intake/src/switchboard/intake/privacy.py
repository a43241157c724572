"""Intake's part of an erasure request: the conversations and email threads kept by the customer's
address, their chats, the documents they sent, and the copies of what was handed to channel
systems without a webhook (SMS, faxes, call commands)."""

from __future__ import annotations

import asyncio

from switchboard.common.envelope import Envelope
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.privacy import erase_files, identity_digest, report
from switchboard.common.runtime import Transaction
from switchboard.intake import store
from switchboard.intake.adapters.blobs import BlobStore
from switchboard.intake.context import Intake
from switchboard.intake.egress import FOLDERS

SERVICE = "intake"


async def erase(tx: Transaction, intake: Intake, event: Envelope[ErasureRequested]) -> None:
    asked, session = event.payload, tx.session
    conversations, threads = await store.erase_addresses(
        session, conversation_ids=asked.conversation_ids
    )
    chats, lines = await store.erase_chats(session, contact_ids=asked.contact_ids)
    files = await asyncio.to_thread(_erase_files, intake, asked)
    await report(
        tx,
        event,
        SERVICE,
        {
            "conversations": conversations,
            "email_threads": threads,
            "chats": chats,
            "chat_lines": lines,
            "files": files,
        },
    )


def _erase_files(intake: Intake, asked: ErasureRequested) -> int:
    var = intake.settings.var_dir
    removed = sum(erase_files(var / folder, asked) for folder in FOLDERS.values())
    blobs = BlobStore(var / "blobs")
    for sha256 in asked.documents:
        path = blobs.path_of(sha256)
        if path.exists():
            path.unlink()
            removed += 1
    return removed


async def correct(tx: Transaction, event: Envelope[CustomerCorrected]) -> None:
    """A corrected email address or number on the customer's conversations and email threads, so
    their next message from it joins them (APP 13)."""
    correction = event.payload
    if correction.field not in ("email", "phone"):
        return
    old, ids = identity_digest(correction.old_value), correction.conversation_ids
    conversations, threads = await store.conversations_and_threads(tx.session, conversation_ids=ids)
    rows: list[store.Conversation | store.EmailThread] = [*conversations, *threads]
    for row in rows:
        if identity_digest(row.customer_address) == old:
            row.customer_address = correction.new_value
            tx.session.add(row)
