"""Recording's store contract, on SQLite and PostgreSQL: a batch's facts merged into contacts
without losing another batch's, and the reads the API pages through."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from switchboard.common.db import Database
from switchboard.common.envelope import utcnow
from switchboard.recording import store
from switchboard.recording.domain import ContactFacts

NOW = utcnow().replace(microsecond=0)


def _entry(event_id: str, contact_id: str, event_type: str, minutes: int = 0) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "contact_id": contact_id,
        "tenant_id": "acme",
        "event_type": event_type,
        "occurred_at": NOW + timedelta(minutes=minutes),
    }


async def _record(
    db: Database, contact_id: str, facts: ContactFacts, entry: dict[str, Any]
) -> None:
    async with db.session() as session:
        store.record(session, contact_id=contact_id, tenant_id="acme", facts=facts, entry=entry)
        await store.write_pending(session)


async def test_batches_recording_the_same_contact_at_once_keep_each_others_facts(
    database: Database,
) -> None:
    received = ContactFacts(status="received", channel="email", subject="Bill", received_at=NOW)
    wrapped = ContactFacts(status=None, agent_id="amy", disposition="billing-explained")
    await asyncio.gather(
        *(
            _record(database, f"c-{n}", received, _entry(f"r-{n}", f"c-{n}", "contact.received"))
            for n in range(5)
        ),
        *(
            _record(database, f"c-{n}", wrapped, _entry(f"w-{n}", f"c-{n}", "contact.wrapped", 5))
            for n in range(5)
        ),
    )
    async with database.reader() as session:
        for n in range(5):
            row = await store.contact(session, contact_id=f"c-{n}", tenant_id="acme")
            assert row is not None
            assert (row.status, row.subject) == ("received", "Bill")
            assert (row.agent_id, row.disposition) == ("amy", "billing-explained")
            timeline = await store.timeline(session, contact_id=f"c-{n}")
            assert [e.event_type for e in timeline] == ["contact.received", "contact.wrapped"]


async def test_a_contact_is_read_only_within_its_tenant(database: Database) -> None:
    await _record(
        database, "c-1", ContactFacts(status="received"), _entry("e-1", "c-1", "contact.received")
    )
    async with database.reader() as session:
        assert await store.contact(session, contact_id="c-1", tenant_id="acme") is not None
        assert await store.contact(session, contact_id="c-1", tenant_id="globex") is None


async def test_a_period_is_paged_through_in_order_once_each(database: Database) -> None:
    same_moment = NOW - timedelta(hours=1)
    async with database.session() as session:
        for n in range(7):
            facts = ContactFacts(
                status="received", received_at=same_moment + timedelta(minutes=n // 3)
            )
            store.record(
                session,
                contact_id=f"c-{n}",
                tenant_id="acme",
                facts=facts,
                entry=_entry(f"e-{n}", f"c-{n}", "contact.received"),
            )
        store.record(
            session,
            contact_id="outside",
            tenant_id="acme",
            facts=ContactFacts(status="received", received_at=NOW + timedelta(days=1)),
            entry=_entry("e-outside", "outside", "contact.received"),
        )
        await store.write_pending(session)
    pages, held = [], []
    async with database.reader() as session:
        async for page in store.contacts_between(
            session, tenant_id="acme", start=NOW - timedelta(days=1), end=NOW, page=2
        ):
            pages.append([c.contact_id for c in page])
            held.append(len(session.sync_session.identity_map))
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert held == [2, 2, 2, 1]  # each page let go once the next is asked for
    assert [c for page in pages for c in page] == [f"c-{n}" for n in range(7)]
