"""Intake's store contract, on SQLite and PostgreSQL: what its callers rely on of each query."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from switchboard.common.db import Database
from switchboard.common.envelope import utcnow
from switchboard.common.privacy import ERASED
from switchboard.intake import store


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        for row in rows:
            session.add(row)


def _jordans_thread() -> tuple[store.Conversation, store.EmailThread]:
    """Jordan's conversation, by token tok1, and the email thread of message <m1@x> in it."""
    return (
        store.Conversation(
            conversation_id="conv-1",
            tenant_id="acme",
            token="tok1",
            customer_address="jordan@example.net",
        ),
        store.EmailThread(
            tenant_id="acme",
            message_id="<m1@x>",
            conversation_id="conv-1",
            customer_address="jordan@example.net",
        ),
    )


def _chat(session_id: str, contact_id: str) -> store.ChatSession:
    return store.ChatSession(
        session_id=session_id,
        tenant_id="acme",
        entry="web",
        secret_sha256="0" * 64,
        customer_name="Jordan",
        customer_email="jordan@example.net",
        contact_id=contact_id,
    )


async def test_a_signature_seen_once_is_refused_the_second_time_until_forgotten(
    database: Database,
) -> None:
    async with database.session() as session:
        await store.remember_signature(session, signature="sig-1")
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            await store.remember_signature(session, signature="sig-1")
    async with database.session() as session:
        await store.forget_signatures_before(session, cutoff=utcnow() - timedelta(minutes=1))
    with pytest.raises(IntegrityError):  # not old enough to forget: still a replay
        async with database.session() as session:
            await store.remember_signature(session, signature="sig-1")
    async with database.session() as session:
        await store.forget_signatures_before(session, cutoff=utcnow() + timedelta(seconds=1))
    async with database.session() as session:
        await store.remember_signature(session, signature="sig-1")


async def test_chat_line_numbers_taken_at_once_are_each_taken_once(database: Database) -> None:
    await _add(database, _chat("chat-1", "c-1"))

    async def take() -> int:
        async with database.session() as session:
            return await store.next_chat_seq(session, session_id="chat-1")

    taken = await asyncio.gather(*(take() for _ in range(12)))
    assert sorted(taken) == list(range(1, 13))


async def test_an_email_continues_a_conversation_only_from_its_own_customer(
    database: Database,
) -> None:
    await _add(
        database,
        *_jordans_thread(),
    )
    async with database.reader() as session:
        by_reply = await store.conversation_of(
            session,
            tenant_id="acme",
            message_ids=["<m1@x>"],
            tokens=[],
            customer="jordan@example.net",
        )
        by_token = await store.conversation_of(
            session,
            tenant_id="acme",
            message_ids=[],
            tokens=["tok1"],
            customer="jordan@example.net",
        )
        someone_else = await store.conversation_of(
            session,
            tenant_id="acme",
            message_ids=["<m1@x>"],
            tokens=["tok1"],
            customer="mallory@example.net",
        )
        other_tenant = await store.conversation_of(
            session,
            tenant_id="globex",
            message_ids=["<m1@x>"],
            tokens=["tok1"],
            customer="jordan@example.net",
        )
    assert by_reply is not None and by_reply.conversation_id == "conv-1"
    assert by_token is not None and by_token.conversation_id == "conv-1"
    assert someone_else is None and other_tenant is None


async def test_a_text_joins_the_customers_latest_conversation_within_the_window(
    database: Database,
) -> None:
    now = utcnow()
    await _add(
        database,
        store.Conversation(
            conversation_id="old",
            tenant_id="acme",
            token="t-old",
            customer_address="+61400000001",
            last_contact_at=now - timedelta(hours=2),
        ),
        store.Conversation(
            conversation_id="new",
            tenant_id="acme",
            token="t-new",
            customer_address="+61400000001",
            last_contact_at=now - timedelta(minutes=5),
        ),
    )
    async with database.reader() as session:
        latest = await store.recent_conversation(
            session, tenant_id="acme", customer="+61400000001", since=now - timedelta(hours=3)
        )
        none = await store.recent_conversation(
            session, tenant_id="acme", customer="+61400000001", since=now - timedelta(minutes=1)
        )
    assert latest is not None and latest.conversation_id == "new"
    assert none is None


async def test_erasure_clears_the_customers_addresses_and_chats_and_counts_them(
    database: Database,
) -> None:
    await _add(
        database,
        *_jordans_thread(),
        _chat("chat-1", "c-1"),
        _chat("chat-2", "c-2"),
        store.ChatLine(
            session_id="chat-1", seq=1, sender="customer", text="my card is 4111", source_id="m-1"
        ),
        store.ChatLine(
            session_id="chat-2", seq=1, sender="customer", text="someone else's", source_id="m-2"
        ),
    )
    async with database.session() as session:
        addresses = await store.erase_addresses(session, conversation_ids=["conv-1"])
        chats = await store.erase_chats(session, contact_ids=["c-1"])
    assert addresses == (1, 1) and chats == (1, 1)
    async with database.reader() as session:
        conversations, threads = await store.conversations_and_threads(
            session, conversation_ids=["conv-1"]
        )
        erased = await session.get(store.ChatSession, "chat-1")
        kept = await session.get(store.ChatSession, "chat-2")
        lines = await store.chat_lines(session, session_id="chat-1", after=0)
        others = await store.chat_lines(session, session_id="chat-2", after=0)
    assert [c.customer_address for c in conversations] == [ERASED]
    assert [t.customer_address for t in threads] == [ERASED]
    assert erased is not None and erased.customer_name is None and erased.customer_email is None
    assert kept is not None and kept.customer_name == "Jordan"
    assert [line.text for line in lines] == [ERASED]
    assert [line.text for line in others] == ["someone else's"]
