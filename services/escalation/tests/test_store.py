"""Escalation's store contract, on SQLite and PostgreSQL: what its timers and handlers rely on."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from switchboard.common.db import Database
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.routing import ContactQueued
from switchboard.escalation import store

NOW = utcnow().replace(microsecond=0)


def _clock(
    clock_id: str,
    *,
    kind: str = "first_response",
    ref: str | None = None,
    started_at: datetime = NOW,
    tenant_id: str = "acme",
) -> store.Clock:
    return store.Clock(
        clock_id=clock_id,
        contact_id=f"contact-{clock_id}",
        tenant_id=tenant_id,
        kind=kind,
        ref=ref,
        within="4h",
        measure="business",
        stops_on=["human_reply"],
        started_at=started_at,
        due_at=started_at + timedelta(hours=4),
    )


def _timer(timer_id: str, clock_id: str, minutes: int) -> store.Timer:
    return store.Timer(
        timer_id=timer_id,
        clock_id=clock_id,
        fire_at=NOW + timedelta(minutes=minutes),
        action="breach",
    )


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        for row in rows:
            session.add(row)


async def test_due_timers_come_earliest_first_up_to_the_limit(database: Database) -> None:
    await _add(
        database,
        _clock("c1"),
        _timer("late", "c1", -1),
        _timer("early", "c1", -30),
        _timer("middle", "c1", -10),
        _timer("future", "c1", 30),
    )
    async with database.session() as session:
        due = await store.due_timers(session, now=NOW, limit=2)
        assert [t.timer_id for t in due] == ["early", "middle"]
        assert await store.pending(session, now=NOW) == (4, 3)
        assert await store.next_fire_at(session) == NOW - timedelta(minutes=30)


async def test_two_replicas_taking_due_timers_at_once_never_take_the_same_one(
    database: Database,
) -> None:
    """On PostgreSQL each takes its batch with FOR UPDATE SKIP LOCKED; on SQLite the writers take
    turns. Either way each timer is fired by one of them only."""
    await _add(database, _clock("c1"), *(_timer(f"t{n:02d}", "c1", -n - 1) for n in range(20)))
    taken: list[list[str]] = []
    both_hold = asyncio.Barrier(2) if database.is_postgres else None

    async def replica() -> None:
        async with database.session() as session:
            due = await store.due_timers(session, now=NOW, limit=10)
            if both_hold is not None:
                await both_hold.wait()  # the first still holds its rows when the second asks
            taken.append([t.timer_id for t in due])
            await store.delete_timers(session, timers=due)

    await asyncio.gather(replica(), replica())
    first, second = taken
    assert len(first) == len(second) == 10
    assert not set(first) & set(second)
    async with database.reader() as session:
        assert await store.pending(session, now=NOW) == (0, 0)


async def test_a_clocks_timers_are_cancelled_with_it(database: Database) -> None:
    await _add(database, _clock("c1"), _clock("c2"), _timer("a", "c1", 5), _timer("b", "c2", 5))
    async with database.session() as session:
        await store.cancel_timers(session, clock_id="c1")
    async with database.reader() as session:
        due = await store.due_timers(session, now=NOW + timedelta(hours=1), limit=10)
    assert [t.timer_id for t in due] == ["b"]


async def test_clocks_are_found_by_what_they_promise(database: Database) -> None:
    await _add(
        database,
        _clock("ack", kind="complaint_acknowledge", ref="complaint-1"),
        _clock("respond", kind="complaint_respond", ref="complaint-1"),
        _clock(
            "old", kind="complaint_respond", ref="complaint-0", started_at=NOW - timedelta(days=40)
        ),
        _clock("other", kind="complaint_respond", ref="complaint-2", tenant_id="globex"),
        _clock("coach", kind="coaching_follow_up", ref="coaching-1"),
    )
    async with database.reader() as session:
        by_ref = await store.clocks_by_ref(session, ref="complaint-1")
        one_kind = await store.clocks_by_ref(session, ref="complaint-1", kind="complaint_respond")
        window = await store.complaint_clocks(
            session, tenant_id="acme", start=NOW - timedelta(days=1), end=NOW + timedelta(days=1)
        )
    assert {c.clock_id for c in by_ref} == {"ack", "respond"}
    assert [c.clock_id for c in one_kind] == ["respond"]
    assert {c.clock_id for c in window} == {"ack", "respond"}


async def test_new_contacts_get_the_current_version_of_each_policy_in_rank_order(
    database: Database,
) -> None:
    def policy(policy_id: str, version: int, rank: int, *, current: bool) -> store.SlaPolicy:
        return store.SlaPolicy(
            tenant_id="acme",
            policy_id=policy_id,
            version=version,
            rank=rank,
            current=current,
            digest=f"{policy_id}{version}",
            definition={},
        )

    await _add(
        database,
        policy("vip", 1, 0, current=False),
        policy("vip", 2, 0, current=True),
        policy("standard", 1, 1, current=True),
    )
    async with database.reader() as session:
        current = await store.current_policies(session, tenant_id="acme")
        every = await store.policy_versions(session, tenant_id="acme")
    assert [(p.policy_id, p.version) for p in current] == [("vip", 2), ("standard", 1)]
    assert [(p.policy_id, p.version) for p in every] == [("vip", 1), ("vip", 2), ("standard", 1)]


async def test_a_batchs_running_clocks_include_those_it_starts_and_not_those_it_stops(
    database: Database,
) -> None:
    """`running_clocks` answers from what the batch loaded and what it has started since, as the
    database would after a flush."""
    old, stopped = _clock("old"), _clock("stopped")
    stopped.contact_id, stopped.state = "contact-old", "met"
    await _add(database, old, stopped)
    about = [
        Envelope.first(
            ContactQueued(queue_id="general", priority=5, reason="r"),
            tenant_id="acme",
            aggregate_id=contact_id,
            contact_id=contact_id,
        )
        for contact_id in ("contact-old", "contact-new")
    ]
    async with database.session() as session:
        await store.watched_contacts(session, about)
        new = _clock("new")
        session.add(new)
        assert [
            c.clock_id for c in await store.running_clocks(session, contact_id="contact-old")
        ] == ["old"]
        assert await store.running_clocks(session, contact_id="contact-new") == [new]
        new.state = "met"
        assert await store.running_clocks(session, contact_id="contact-new") == []
        assert await store.running_clocks(session, contact_id="contact-elsewhere") == []
