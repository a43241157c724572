"""The idempotency ledger's claim on a real SQLite database: of a batch, the events a consumer has
not applied, each once, claimed in the caller's transaction (one statement for the batch)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from switchboard.common import db as db_module
from switchboard.common.db import Database, ProcessedEvent, claim_new, is_transient
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import ContactWrapped
from switchboard.common.testing import statements_run


def _event(contact_id: str) -> Envelope[ContactWrapped]:
    wrapped = ContactWrapped(agent_id="a1", disposition="resolved")
    return Envelope.first(wrapped, tenant_id="acme", aggregate_id=contact_id)


async def test_a_batch_claims_only_what_the_consumer_has_not_applied(db: Database) -> None:
    old, new, again = _event("c1"), _event("c2"), _event("c3")
    async with db.session() as session:
        assert await claim_new(session, consumer="recording", events=[old]) == [old]

    twice = again.model_copy()  # the same event delivered twice in one batch
    async with db.session() as session:
        claimed = await claim_new(session, consumer="recording", events=[old, again, new, twice])
    assert claimed == [again, new] and claimed[0] is again  # where it first came

    async with db.session() as session:  # another consumer group has its own ledger
        assert await claim_new(session, consumer="desktop", events=[old]) == [old]
        rows = (await session.exec(select(ProcessedEvent.consumer, ProcessedEvent.event_id))).all()
    assert sorted(rows) == sorted(
        [("recording", e.event_id) for e in (old, again, new)] + [("desktop", old.event_id)]
    )


async def test_a_claim_rolled_back_with_its_transaction_is_claimed_again(db: Database) -> None:
    event = _event("c1")
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            assert await claim_new(session, consumer="recording", events=[event]) == [event]
            raise RuntimeError("the handler failed")
    async with db.session() as session:
        assert await claim_new(session, consumer="recording", events=[event]) == [event]


async def test_the_claim_is_written_as_the_orm_would_write_it_and_fails_as_sqlalchemy_does(
    db: Database,
) -> None:
    """On SQLite the claim goes to `sqlite3` itself: what it writes reads back through the ORM like
    any row, and a failure comes back as SQLAlchemy's exception, which the consumer tells apart
    (a schema mistake is not worth a retry; a busy database is)."""
    event = _event("c1")
    with statements_run(db.engine) as statements:
        async with db.session() as session:
            assert await claim_new(session, consumer="recording", events=[event]) == [event]
    assert statements == []  # neither the BEGIN nor the claim went through SQLAlchemy's execution
    async with db.reader() as session:
        row = await session.get(ProcessedEvent, ("recording", event.event_id))
    assert row is not None and abs(row.processed_at - event.occurred_at) < timedelta(seconds=5)

    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE processed_event"))
    with pytest.raises(OperationalError) as failed:
        async with db.session() as session:
            await claim_new(session, consumer="recording", events=[_event("c2")])
    assert "no such table" in str(failed.value) and not is_transient(failed.value)


async def test_a_begin_that_finds_the_file_locked_is_transient(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The BEGIN IMMEDIATE goes to `sqlite3` itself too: past the busy timeout, with another
    connection writing, it fails as SQLAlchemy's `OperationalError`, which the consumer waits out
    rather than setting the batch aside (it was `sqlite3`'s own exception, read as unknown)."""
    monkeypatch.setattr(db_module, "WRITER_WAIT_SECONDS", 0.05)
    path = db.engine.url.database or ""
    locked = Database(f"sqlite+aiosqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as failed:
            async with locked.session() as session:
                await claim_new(session, consumer="recording", events=[_event("c1")])
        assert "database is locked" in str(failed.value) and is_transient(failed.value)
    finally:
        holder.rollback()
        holder.close()
        await locked.dispose()
    async with locked.session() as session:  # the file free again, the next one begins
        assert await claim_new(session, consumer="recording", events=[_event("c2")])
    await locked.dispose()
