"""Dispatch's store contract, on SQLite and PostgreSQL: what its loop, its despatch decisions and
its erasure rely on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from switchboard.common.db import Database
from switchboard.common.envelope import utcnow
from switchboard.common.privacy import ERASED
from switchboard.dispatch import messages_store, store

NOW = utcnow().replace(microsecond=0)


def _job(job_id: str, **fields: Any) -> store.Job:
    defaults: dict[str, Any] = {
        "tenant_id": "acme",
        "address": "1 George St",
        "lat": -33.86,
        "lon": 151.2,
        "work_type": "install",
        "skills": [],
        "estimated_minutes": 60,
        "window_start": NOW + timedelta(hours=1),
        "window_end": NOW + timedelta(hours=5),
        "priority": "normal",
        "correlation_id": job_id,
        "last_event_id": job_id,
    }
    return store.Job(job_id=job_id, **{**defaults, **fields})


def _sent(sent_id: str, job_id: str, to: str = "tech-1") -> messages_store.Sent:
    return messages_store.Sent(
        sent_id=sent_id,
        tenant_id="acme",
        job_id=job_id,
        to=to,
        medium="sms",
        address="+61400000001",
        subject="Job",
        text="1 George St, ring Jordan",
        created_at=NOW + timedelta(seconds=len(sent_id)),
    )


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        for row in rows:
            session.add(row)


async def _at_once(db: Database, take: Callable[[Any], Any]) -> tuple[list[Any], list[Any]]:
    """Two transactions taking rows at the same time, each holding its rows until both have
    taken (PostgreSQL); on SQLite the writers take turns."""
    both_hold = asyncio.Barrier(2) if db.is_postgres else None

    async def one() -> list[Any]:
        async with db.session() as session:
            rows = await take(session)
            if both_hold is not None:
                await both_hold.wait()
            for row in rows:
                await session.delete(row)
            return list(rows)

    first, second = await asyncio.gather(one(), one())
    return first, second


async def test_two_relays_never_deliver_the_same_message(database: Database) -> None:
    await _add(database, *(_sent(f"s{n:02d}", "job-1") for n in range(8)))
    first, second = await _at_once(
        database, lambda session: messages_store.undelivered(session, limit=4)
    )
    assert len(first) == len(second) == 4
    assert not {s.sent_id for s in first} & {s.sent_id for s in second}


async def test_due_deadlines_are_taken_once_earliest_first(database: Database) -> None:
    await _add(
        database,
        *(
            store.Deadline(
                tenant_id="acme", kind="confirm", ref=f"job-{n}", due_at=NOW - timedelta(minutes=n)
            )
            for n in range(6)
        ),
        store.Deadline(
            tenant_id="acme", kind="chase", ref="msg-1", due_at=NOW + timedelta(hours=1)
        ),
    )
    async with database.reader() as session:
        assert await store.tenants_due(session, now=NOW) == ["acme"]
        assert await store.next_deadline(session) == NOW - timedelta(minutes=5)
    first, second = await _at_once(
        database,
        lambda session: store.due_deadlines(session, now=NOW, limit=3, tenant_id="acme"),
    )
    refs = [d.ref for d in first] + [d.ref for d in second]
    assert sorted(refs) == [f"job-{n}" for n in range(6)]
    if database.is_postgres:  # each took its own three
        assert not {d.ref for d in first} & {d.ref for d in second}
    else:  # the first writer took the three due earliest
        assert [d.ref for d in first] == ["job-5", "job-4", "job-3"]
    async with database.session() as session:
        await store.drop_deadlines(session, kind="chase", ref="msg-1")
        assert await store.next_deadline(session) is None


async def test_jobs_are_listed_by_status_and_need_for_a_dispatcher(database: Database) -> None:
    await _add(
        database,
        _job("a", created_at=NOW - timedelta(minutes=3)),
        _job("b", status="despatched", created_at=NOW - timedelta(minutes=2)),
        _job("c", needs_dispatcher=True, created_at=NOW - timedelta(minutes=1)),
        _job("d", tenant_id="globex"),
    )
    async with database.reader() as session:
        every = await store.jobs_of(session, tenant_id="acme")
        created = await store.jobs_of(session, tenant_id="acme", status="created")
        flagged = await store.jobs_of(session, tenant_id="acme", needs_dispatcher=True)
        today = await store.unstarted_before(
            session, tenant_id="acme", statuses=("created",), before=NOW + timedelta(days=1)
        )
        by_status = dict(await store.jobs_by_status(session))
    assert [j.job_id for j in every] == ["a", "b", "c"]
    assert [j.job_id for j in created] == ["a", "c"]
    assert [j.job_id for j in flagged] == ["c"]
    assert [j.job_id for j in today] == ["a", "c"]
    assert by_status == {"created": 3, "despatched": 1}


async def test_a_customers_jobs_are_found_by_contact_or_with_every_number_to_match(
    database: Database,
) -> None:
    await _add(
        database,
        _job("asked", contact_id="contact-1"),
        _job("by-number", customer_phone="+61400000001"),
        _job("other", customer_phone=None),
        _job("elsewhere", tenant_id="globex", customer_phone="+61400000001"),
    )
    async with database.reader() as session:
        asked = await store.jobs_of_contacts(session, contact_ids=["contact-1"])
        to_match = await store.jobs_of_contacts(
            session, contact_ids=["contact-1"], tenant_id="acme", with_phone=True
        )
    assert [j.job_id for j in asked] == ["asked"]
    assert {j.job_id for j in to_match} == {"asked", "by-number"}


async def test_erasure_clears_what_was_sent_about_the_jobs_and_to_their_customers(
    database: Database,
) -> None:
    await _add(
        database,
        _sent("to-tech", "job-1"),
        _sent("to-customer", "job-1", to="customer"),
        _sent("kept", "job-2"),
        messages_store.CustomerNotice(
            request_id="r1", tenant_id="acme", job_id="job-1", number="+61400000001", text="Hi"
        ),
    )
    async with database.session() as session:
        assert await messages_store.erase_sent(session, job_ids=["job-1"]) == 2
        assert await messages_store.erase_notices(session, job_ids=["job-1"]) == 1
    async with database.reader() as session:
        erased = await messages_store.sent_for(session, job_id="job-1")
        kept = await messages_store.sent_for(session, job_id="job-2")
        notice = await session.get(messages_store.CustomerNotice, "r1")
    assert {(s.sent_id, s.text, s.address) for s in erased} == {
        ("to-tech", ERASED, "+61400000001"),
        ("to-customer", ERASED, ERASED),
    }
    assert [s.text for s in kept] == ["1 George St, ring Jordan"]
    assert notice is not None and (notice.number, notice.text) == (ERASED, ERASED)


async def test_only_recipients_who_have_not_answered_are_chased(database: Database) -> None:
    await _add(
        database,
        messages_store.Recipient(message_id="m1", technician_id="amy"),
        messages_store.Recipient(message_id="m1", technician_id="bo", status="acknowledged"),
        messages_store.Recipient(message_id="m2", technician_id="amy"),
    )
    async with database.reader() as session:
        silent = await messages_store.silent_recipients(session, message_id="m1")
        everyone = await messages_store.recipients(session, message_id="m1")
    assert [r.technician_id for r in silent] == ["amy"]
    assert [r.technician_id for r in everyone] == ["amy", "bo"]
