"""Workforce's wiring on FastStream's in-memory broker and SQLite: the history from contact events
(each contact counted once, whatever is redelivered), agents' state spans, and a published roster
measured against them, with the team leader alerted once per stretch out of adherence."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from switchboard.common.centre import load_centre
from switchboard.common.clock import Clock
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import AgentStateChanged, ContactWrapped
from switchboard.common.events.intake import CallAbandoned, CallAnswered
from switchboard.common.events.routing import ContactAssigned, ContactQueued
from switchboard.common.runtime import Runtime
from switchboard.common.testing import service_under_test
from switchboard.workforce import demo, planning, publisher, store
from switchboard.workforce.context import Workforce
from switchboard.workforce.handlers import SERVICE, subscriptions
from switchboard.workforce.settings import WorkforceSettings

DEMO = Path(__file__).parents[3] / "libs/cli/src/switchboard/cli/demo-centre.yaml"
T0 = datetime(2026, 12, 7, 0, 2, tzinfo=UTC)  # Monday 11:02 in Sydney


async def _prepare(runtime: Runtime) -> None:
    settings = WorkforceSettings(var_dir=runtime.settings.var_dir)
    runtime.context = Workforce(runtime, settings, Clock(runtime.settings.var_dir / "clock"))
    async with runtime.db.session() as session:
        await store.apply_centre(session, load_centre(DEMO))


def _call(contact_id: str, *, answered: bool, wrapped: bool) -> list[Envelope[Any]]:
    queued = Envelope.first(
        ContactQueued(queue_id="billing", priority=5, reason="rule", channel="phone"),
        tenant_id="acme",
        aggregate_id=contact_id,
        contact_id=contact_id,
        occurred_at=T0,
    )
    events: list[Envelope[Any]] = [queued]
    if answered:
        events.append(
            queued.follow(
                ContactAssigned(
                    offer_id="o", agent_id="alice", queue_id="billing", waited_seconds=12
                ),
                occurred_at=T0 + timedelta(seconds=12),
            )
        )
        # A caller hanging up after the answer is no abandon.
        events.append(
            queued.follow(
                CallAbandoned(call_id="c", at=T0 + timedelta(seconds=60)),
                occurred_at=T0 + timedelta(seconds=60),
            )
        )
    else:
        events.append(
            queued.follow(
                CallAbandoned(call_id="c", at=T0 + timedelta(seconds=40)),
                occurred_at=T0 + timedelta(seconds=40),
            )
        )
    if wrapped:
        events.append(
            queued.follow(
                ContactWrapped(agent_id="alice", disposition="done"),
                occurred_at=T0 + timedelta(seconds=312),
            )
        )
    # A re-queue (a transfer) does not count as offered again.
    events.append(
        queued.follow(
            ContactQueued(queue_id="billing", priority=7, reason="transfer", channel="phone"),
            occurred_at=T0 + timedelta(seconds=400),
        )
    )
    return events


def _answered_at_the_pbx(contact_id: str) -> list[Envelope[Any]]:
    """Answered at the PBX 8 s in, then (late) assigned through the ACD: answered once, at 8 s."""
    queued = Envelope.first(
        ContactQueued(queue_id="billing", priority=5, reason="rule", channel="phone"),
        tenant_id="acme",
        aggregate_id=contact_id,
        contact_id=contact_id,
        occurred_at=T0,
    )
    return [
        queued,
        queued.follow(
            CallAnswered(call_id="d", at=T0 + timedelta(seconds=8)),
            occurred_at=T0 + timedelta(seconds=8),
        ),
        queued.follow(
            ContactAssigned(offer_id="o", agent_id="bilal", queue_id="billing", waited_seconds=30),
            occurred_at=T0 + timedelta(seconds=30),
        ),
    ]


@pytest.mark.parametrize("seed", range(4))
async def test_each_contact_counts_once_in_the_interval_it_first_queued(
    tmp_path: Path, seed: int
) -> None:
    """Twice over (redelivery) and in any order: one contact's events come on several topics,
    so a wrap-up may come before its answer, a re-queue before the first queueing."""
    events = (
        _call("a", answered=True, wrapped=True)
        + _call("b", answered=True, wrapped=False)
        + _call("c", answered=False, wrapped=False)
        + _answered_at_the_pbx("d")
    )
    events = events * 2
    random.Random(seed).shuffle(events)
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=_prepare) as wf:
        for event in events:
            await wf.deliver(event)
        async with await wf.session() as session:
            [row] = (await session.exec(select(store.IntervalStat))).all()
    assert (row.queue_id, row.channel) == ("billing", "phone")
    assert row.slot.replace(tzinfo=UTC) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 11:00 local
    assert (row.offered, row.handled, row.abandoned, row.answered_in_target) == (4, 3, 1, 3)
    assert row.wait_seconds == 12 + 12 + 40 + 8
    assert (row.wrapped, row.handle_seconds) == (1, 300)


async def test_a_rostered_agent_out_of_adherence_is_reported_once(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=_prepare) as wf:
        runtime = wf.runtime
        clock_file = tmp_path / "clock"
        context = Workforce(runtime, WorkforceSettings(var_dir=tmp_path), Clock(clock_file))
        runtime.context = context
        async with runtime.transaction() as tx:
            cal = await planning.calendar(tx.session, "acme")
            assert cal is not None
            roster = store.Roster(
                roster_id="r1",
                tenant_id="acme",
                week_start=T0.date(),
                forecast_run_id="none",
                shortfall=0,
                optimal=True,
            )
            tx.session.add(roster)
            start, lunch = T0 - timedelta(hours=2), T0 + timedelta(hours=1)
            tx.session.add(
                store.ShiftRow(
                    roster_id="r1",
                    agent_id="alice",
                    day=T0.date(),
                    start=start,
                    end=start + timedelta(hours=8),
                    activities=[
                        {"start": start.isoformat(), "end": lunch.isoformat(), "kind": "work"},
                        {
                            "start": lunch.isoformat(),
                            "end": (lunch + timedelta(minutes=30)).isoformat(),
                            "kind": "lunch",
                        },
                        {
                            "start": (lunch + timedelta(minutes=30)).isoformat(),
                            "end": (start + timedelta(hours=8)).isoformat(),
                            "kind": "work",
                        },
                    ],
                )
            )
            await planning.publish(tx, cal, roster)
        signed_in = Envelope.first(
            AgentStateChanged(agent_id="alice", state="available"),
            tenant_id="acme",
            aggregate_id="alice",
            occurred_at=start,
        )
        on_break = Envelope.first(
            AgentStateChanged(agent_id="alice", state="break", reason="coffee"),
            tenant_id="acme",
            aggregate_id="alice",
            occurred_at=T0 - timedelta(minutes=30),
        )
        for event in (signed_in, on_break, on_break):
            await wf.deliver(event)
        clock_file.write_text(str((T0 - datetime.now(UTC)).total_seconds()))
        assert context.take_changed() == {"acme"}  # the publisher wakes for this tenant only
        await publisher.refresh(context, {"globex"})
        measured = [e for e in await wf.outbox() if e["event_type"] == "workforce.adherence"]
        assert measured == []  # a round over another tenant leaves acme's agents alone
        await publisher.refresh(context, {"acme"})
        await publisher.refresh(context)  # every tenant, the same picture: nothing new is sent
        sent = await wf.outbox()

    schedules = [e for e in sent if e["event_type"] == "workforce.schedule"]
    assert len(schedules) == 3 * 7 and {e["payload"]["agent_id"] for e in schedules} == {
        "alice",
        "bilal",
        "chen",
    }
    [report] = [e["payload"] for e in sent if e["event_type"] == "workforce.adherence"]
    assert (report["expected"], report["actual"]) == ("available", "break")
    assert report["adherence"] == round(90 / 120, 3)  # out for the last 30 of 120 minutes
    assert report["team"] == "red"
    [alert] = [e["payload"] for e in sent if e["event_type"] == "supervisor.alert"]
    assert alert["kind"] == "out_of_adherence" and alert["agent_id"] == "alice"
    assert "for 30 minutes" in alert["message"]
    assert len([e for e in sent if e["event_type"] == "workforce.intraday"]) == 1


async def test_a_tenant_changing_all_the_time_does_not_hold_back_the_rounds_over_every_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[set[str] | None] = []
    real_refresh = publisher.refresh

    async def watched(context: Workforce, tenants: set[str] | None = None) -> None:
        rounds.append(tenants)
        await real_refresh(context, tenants)

    monkeypatch.setattr(publisher, "refresh", watched)
    centre = yaml.safe_load(DEMO.read_text())
    del centre["tenants"][0]["workforce"]["demo_history_weeks"]  # no demo to seed first
    (tmp_path / "centre.yaml").write_text(yaml.safe_dump(centre))

    async def prepare(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            await store.apply_centre(session, load_centre(tmp_path / "centre.yaml"))

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as wf:
        settings = WorkforceSettings(var_dir=tmp_path, workforce_refresh_seconds=0.5)
        context = Workforce(wf.runtime, settings, Clock(tmp_path / "clock"))
        started = time.monotonic()
        loop = asyncio.create_task(publisher.run(context))
        try:
            for _ in range(60):  # an agent of acme changes state every 25 ms for 1.5 s
                context.tenant_changed("acme")
                await asyncio.sleep(0.025)
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        elapsed = time.monotonic() - started
    assert rounds[0] is None  # the first round is over every tenant
    # ... and one every half second after it, however busy acme is; in between, acme's alone
    assert 2 <= rounds.count(None) <= 1 + elapsed / 0.5
    assert {"acme"} in rounds and all(r is None or r == {"acme"} for r in rounds)


@pytest.mark.parametrize(
    ("now", "monday"),
    [
        # Sunday 11:42 in Sydney: closed all day
        (datetime(2026, 12, 6, 0, 42, tzinfo=UTC), date(2026, 11, 30)),
        # Wednesday 13:00 in Sydney
        (datetime(2026, 12, 9, 2, 0, tzinfo=UTC), date(2026, 12, 7)),
    ],
)
async def test_the_demo_roster_is_this_weeks_from_its_monday_whatever_the_day(
    tmp_path: Path, now: datetime, monday: date
) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=_prepare) as wf:
        async with wf.runtime.transaction() as tx:
            assert await demo.seed(tx, now, looked_at=set()) == ["acme"]
        async with wf.runtime.db.session() as session:
            roster = await store.published_roster(session, tenant_id="acme", week_start=monday)
            assert roster is not None
            days = {shift.day for shift in await store.shifts(session, roster_id=roster.roster_id)}
    # Monday to Saturday are open: each has its shifts, whichever day the demo was seeded on.
    assert {day.weekday() for day in days} == {0, 1, 2, 3, 4, 5}
