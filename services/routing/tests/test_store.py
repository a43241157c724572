"""Routing's store contract, on SQLite and PostgreSQL: the conditional transitions that settle a
race between a timeout and an acceptance, and what the ACD is rebuilt from."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import setaside
from switchboard.common.db import Database
from switchboard.common.envelope import aware, utcnow
from switchboard.common.testing import statements_run
from switchboard.routing import store

NOW = utcnow().replace(microsecond=0)


def _entry(contact_id: str, **fields: Any) -> store.QueueEntry:
    defaults: dict[str, Any] = {
        "tenant_id": "acme",
        "queue_id": "billing",
        "channel": "email",
        "priority": 5,
        "correlation_id": contact_id,
        "queued_event_id": contact_id,
    }
    return store.QueueEntry(contact_id=contact_id, **{**defaults, **fields})


def _offer(
    offer_id: str, contact_id: str, agent_id: str = "amy", **fields: Any
) -> store.RoutingOffer:
    return store.RoutingOffer(
        offer_id=offer_id,
        contact_id=contact_id,
        agent_id=agent_id,
        tenant_id="acme",
        queue_id="billing",
        expires_at=NOW + timedelta(seconds=30),
        reason={},
        **fields,
    )


async def _move(
    session: AsyncSession, key: str, *, from_: tuple[str, ...], to: str, **values: Any
) -> bool:
    """A queue entry's transition."""
    return await store.transition(
        session, model=store.QueueEntry, key=key, from_=from_, to=to, **values
    )


def _verbs(statements: list[str]) -> list[str]:
    return [statement.split()[0] for statement in statements]


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        for row in rows:
            session.add(row)


async def test_of_a_timeout_and_an_acceptance_racing_exactly_one_wins(database: Database) -> None:
    await _add(database, _entry("c-1", status="offered"), _offer("o-1", "c-1"))

    async def move(to: str) -> bool:
        async with database.session() as session:
            return await store.transition(
                session, model=store.RoutingOffer, key="o-1", from_=("offered",), to=to
            )

    outcomes = await asyncio.gather(move("accepted"), move("timed_out"))
    assert sorted(outcomes) == [False, True]
    async with database.reader() as session:
        offer = await session.get(store.RoutingOffer, "o-1")
        open_now = await store.open_offer_of(session, contact_id="c-1")
    assert offer is not None and offer.status == ("accepted" if outcomes[0] else "timed_out")
    assert open_now is None


async def test_a_transition_sets_its_values_only_when_it_moves(database: Database) -> None:
    await _add(database, _entry("c-1"), _entry("c-2", status="assigned"))
    async with database.session() as session:
        moved = await _move(session, "c-1", from_=("waiting",), to="offered", agent_id="amy")
        stayed = await _move(session, "c-2", from_=("waiting",), to="offered", agent_id="bo")
    assert (moved, stayed) == (True, False)
    async with database.reader() as session:
        first = await session.get(store.QueueEntry, "c-1")
        second = await session.get(store.QueueEntry, "c-2")
    assert first is not None and (first.status, first.agent_id) == ("offered", "amy")
    assert second is not None and (second.status, second.agent_id) == ("assigned", None)


async def test_a_transition_brings_the_sessions_copy_of_its_row_up_to_date(
    database: Database,
) -> None:
    """A handler that loaded the row (a batch's prefetch) sees the move; one that did not, reads
    it from the database."""
    await _add(database, _entry("c-1"), _entry("c-2"))
    async with database.session() as session:
        held = await session.get(store.QueueEntry, "c-1")
        assert held is not None
        for key in ("c-1", "c-2"):
            await _move(session, key, from_=("waiting",), to="offered")
        assert (held.status, held.agent_id) == ("offered", None)
        fresh = await session.get(store.QueueEntry, "c-2")
        assert fresh is not None and fresh.status == "offered"


async def test_a_transition_sees_what_its_session_added_and_keeps_its_values_types(
    database: Database,
) -> None:
    """A row added earlier in the same transaction and not yet written is moved all the same (the
    prepared statement goes out after the session's pending rows), and the values it sets keep
    their types (a time, a number of seconds)."""
    async with database.session() as session:
        session.add(_entry("c-1", status="assigned", agent_id="amy"))
        moved = await _move(
            session, "c-1", from_=("assigned",), to="wrapped", outcome_at=NOW, waited_seconds=12.5
        )
    assert moved
    async with database.reader() as session:
        entry = await session.get(store.QueueEntry, "c-1")
    assert entry is not None and entry.status == "wrapped"
    assert entry.outcome_at is not None and aware(entry.outcome_at) == NOW
    assert entry.waited_seconds == 12.5


async def test_a_transition_writes_only_its_own_row_and_that_row_first_when_unwritten(
    database: Database,
) -> None:
    """A batch's other changes wait for the commit (one write for the batch, not one per event);
    a change to the moved row itself is written before the move, which then has the last word."""
    await _add(database, _entry("c-1"), _entry("c-2"), _entry("c-3"))
    async with database.session() as session:
        other = await session.get(store.QueueEntry, "c-2")
        itself = await session.get(store.QueueEntry, "c-3")
        assert other is not None and itself is not None
        other.priority, itself.agent_id = 9, "zed"
        with statements_run(database.engine) as statements:
            await _move(session, "c-1", from_=("waiting",), to="offered")
        assert _verbs(statements) == ["UPDATE"]  # c-1's move alone: c-2's change waits
        with statements_run(database.engine) as statements:
            await _move(session, "c-3", from_=("waiting",), to="offered", agent_id="amy")
        assert _verbs(statements).count("UPDATE") == 3  # c-2's and c-3's changes, then the move
        assert (itself.status, itself.agent_id) == ("offered", "amy")
    async with database.reader() as session:
        rows = {key: await session.get(store.QueueEntry, key) for key in ("c-1", "c-2", "c-3")}
    assert [(r.status, r.priority, r.agent_id) for r in rows.values() if r] == [
        ("offered", 5, None),
        ("waiting", 9, None),
        ("offered", 5, "amy"),
    ]


async def test_the_acd_is_rebuilt_from_live_entries_but_not_set_aside_ones(
    database: Database,
) -> None:
    await _add(
        database,
        _entry("late", enqueued_at=NOW - timedelta(minutes=1)),
        _entry("early", enqueued_at=NOW - timedelta(minutes=5)),
        _entry("held", status="assigned", agent_id="amy"),
        _entry("done", status="wrapped", outcome_at=NOW - timedelta(minutes=2), waited_seconds=9),
        _entry("stuck", enqueued_at=NOW - timedelta(minutes=9)),
        _offer("o-open", "late"),
        _offer("o-closed", "done", status="accepted"),
    )
    async with database.session() as session:
        await setaside.set_aside(
            session,
            service="routing",
            loop=store.UNOFFERABLE,
            ref="stuck",
            error=ValueError("the broker refused its offer"),
        )
    async with database.reader() as session:
        live = await store.live_entries(session)
        assigned = await store.assigned_entries(session)
        recent = await store.outcomes_since(session, since=NOW - timedelta(minutes=30))
        offers = await store.open_offers(session)
        accepted = await store.accepted_offer(session, contact_id="done")
    assert [e.contact_id for e in live] == ["early", "late"]
    assert [e.contact_id for e in assigned] == ["held"]
    assert [e.contact_id for e in recent] == ["done"]
    assert [o.offer_id for o in offers] == ["o-open"]
    assert accepted is not None and accepted.offer_id == "o-closed"


async def test_an_erasure_forgets_callback_numbers_and_counts_them(database: Database) -> None:
    await _add(
        database,
        _entry("c-1", callback_number="+61400000001"),
        _entry("c-2", callback_number="+61400000002"),
        _entry("c-3"),
    )
    async with database.session() as session:
        assert await store.forget_numbers(session, contact_ids=["c-1", "c-3"]) == 1
    async with database.reader() as session:
        kept = await session.get(store.QueueEntry, "c-2")
        gone = await session.get(store.QueueEntry, "c-1")
    assert kept is not None and kept.callback_number == "+61400000002"
    assert gone is not None and gone.callback_number is None
