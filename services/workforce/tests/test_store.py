"""Workforce's store contract, on SQLite and PostgreSQL: the spans adherence is measured on, the
published roster, what was last published, and the refresh's turn among replicas."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from switchboard.common.db import Database
from switchboard.common.envelope import utcnow
from switchboard.workforce import store

NOW = utcnow().replace(microsecond=0)
MONDAY = date(2026, 11, 30)


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        for row in rows:
            session.add(row)


def _span(agent_id: str, state: str, start: int, end: int | None) -> store.StateSpan:
    return store.StateSpan(
        agent_id=agent_id,
        tenant_id="acme",
        state=state,
        started_at=NOW + timedelta(minutes=start),
        ended_at=None if end is None else NOW + timedelta(minutes=end),
    )


async def test_the_spans_overlapping_a_period_and_an_agents_open_one(database: Database) -> None:
    await _add(
        database,
        _span("amy", "available", -120, -60),  # over before the period
        _span("amy", "break", -60, -10),  # overlaps its start
        _span("amy", "available", -10, None),  # still open
        _span("bo", "available", 30, None),  # starts after it
    )
    async with database.reader() as session:
        seen = await store.spans(
            session, tenant_id="acme", since=NOW - timedelta(minutes=30), until=NOW
        )
        open_now = await store.open_span(session, agent_id="amy")
    assert [(s.agent_id, s.state) for s in seen] == [("amy", "break"), ("amy", "available")]
    assert open_now is not None and open_now.ended_at is None and open_now.state == "available"


async def test_one_roster_is_published_for_a_week_and_a_new_one_supersedes_it(
    database: Database,
) -> None:
    def roster(roster_id: str, status: str) -> store.Roster:
        return store.Roster(
            roster_id=roster_id,
            tenant_id="acme",
            week_start=MONDAY,
            forecast_run_id="f",
            status=status,
            shortfall=0,
            optimal=True,
        )

    await _add(database, roster("old", "published"), roster("draft", "draft"))
    async with database.session() as session:
        await store.supersede(session, tenant_id="acme", week_start=MONDAY)
        draft = await session.get(store.Roster, "draft")
        assert draft is not None
        draft.status = "published"
        session.add(draft)
    async with database.reader() as session:
        published = await store.published_roster(session, tenant_id="acme", week_start=MONDAY)
        old = await session.get(store.Roster, "old")
    assert published is not None and published.roster_id == "draft"
    assert old is not None and old.status == "superseded"


async def test_only_a_change_is_published_again(database: Database) -> None:
    async with database.session() as session:
        assert await store.changed(session, key="adherence:amy", digest="a")
    async with database.session() as session:
        assert not await store.changed(session, key="adherence:amy", digest="a")
        assert await store.changed(session, key="adherence:amy", digest="b")
    async with database.reader() as session:
        assert not await store.changed(session, key="adherence:amy", digest="b")


async def test_one_replica_at_a_time_has_the_refresh_turn(database: Database) -> None:
    """On PostgreSQL the turn is an advisory lock held until the transaction ends: a second
    replica asking meanwhile is told no, and may have it once the first is done. SQLite has one
    writer, so each has it in turn."""
    first_has_it, second_asked, first_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    turns: dict[str, bool] = {}

    async def first() -> None:
        async with database.session() as session:
            turns["first"] = await store.take_turn(session, key=42)
            first_has_it.set()
            if database.is_postgres:
                await second_asked.wait()
        first_done.set()

    async def second() -> None:
        await first_has_it.wait()
        if database.is_postgres:
            async with database.session() as session:
                turns["second"] = await store.take_turn(session, key=42)
            second_asked.set()
        await first_done.wait()
        async with database.session() as session:
            turns["later"] = await store.take_turn(session, key=42)

    await asyncio.gather(first(), second())
    assert turns["first"] and turns["later"]
    assert turns.get("second", False) is False
