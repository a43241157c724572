"""Escalation's handlers and timer loop on the in-memory broker, with a controllable clock:
breaches climb the path, an answer cancels its timers, a follow-up falls due on time, complaints
get their own clocks, and a policy in use is versioned, not edited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from switchboard.common import setaside
from switchboard.common.centre import CentreConfig, QueueConfig, TenantConfig
from switchboard.common.clock import Clock
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.desktop import (
    ComplaintRaised,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ReplySent,
)
from switchboard.common.events.quality import CoachingPlanned
from switchboard.common.events.routing import ContactQueued
from switchboard.common.promises_config import (
    ClockConfig,
    EscalationConfig,
    EscalationLevelConfig,
    HoursConfig,
    SlaPolicyConfig,
)
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.escalation import store
from switchboard.escalation.context import Escalation
from switchboard.escalation.handlers import SERVICE, subscriptions
from switchboard.escalation.timers import Timers

ALWAYS = [
    HoursConfig(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open="00:00", close="23:59")
]


def centre(first_response: str = "1h") -> CentreConfig:
    policy = SlaPolicyConfig(
        id="written",
        channels=["email"],
        first_response=ClockConfig(
            within=first_response, measure="calendar", stops_on=["human_reply"]
        ),
        resolution=ClockConfig(within="8h", measure="calendar", stops_on=["resolved"]),
    )
    levels = [
        EscalationLevelConfig(name="tier 2", queue="tier2", priority=7, notify=["lead"]),
        EscalationLevelConfig(name="team leader", queue="tier2", priority=8, notify=["lead"]),
        EscalationLevelConfig(
            name="complaints officer", queue="tier2", priority=9, notify=["officer"]
        ),
    ]
    return CentreConfig(
        tenants=[
            TenantConfig(
                id="acme",
                name="Acme",
                queues=[
                    QueueConfig(id="general", name="General", default=True),
                    QueueConfig(id="tier2", name="Tier 2"),
                ],
                escalation=EscalationConfig(hours=ALWAYS, policies=[policy], levels=levels),
            )
        ]
    )


@dataclass
class Floor:
    service: ServiceUnderTest
    timers: Timers
    offset_file: Path
    t0: datetime

    def advance_to(self, minutes: float) -> None:
        """Set the clock to t0 + minutes."""
        real = datetime.now(UTC)
        target = self.t0 + timedelta(minutes=minutes)
        self.offset_file.write_text(str((target - real).total_seconds()))

    async def deliver(self, payload: Payload, contact_id: str, **extra: Any) -> None:
        event = Envelope.first(
            payload, tenant_id="acme", aggregate_id=contact_id, contact_id=contact_id, **extra
        )
        await self.service.deliver(event)

    async def fire(self) -> None:
        while await self.timers.fire_due():
            pass

    async def emitted(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in await self.service.outbox() if e["event_type"] == event_type]

    async def clocks(self, contact_id: str) -> dict[str, store.Clock]:
        async with await self.service.session() as session:
            return {c.kind: c for c in await store.clocks_of(session, contact_id=contact_id)}


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[Floor]:
    offset_file = tmp_path / "clock"
    offset_file.write_text("0")
    clock = Clock(offset_file)
    holder: dict[str, Timers] = {}

    async def prepare(runtime: Any) -> None:
        holder["timers"] = timers = Timers(runtime, clock, tick=0.05, batch=2)
        runtime.context = Escalation(
            runtime, clock, timers.wake, runtime.tracer_provider.get_tracer("test")
        )
        async with runtime.db.session() as session:
            await store.apply_centre(session, centre())

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        yield Floor(service, holder["timers"], offset_file, datetime.now(UTC))


def _queued() -> ContactQueued:
    return ContactQueued(queue_id="general", priority=5, reason="r", channel="email")


async def test_breaches_climb_the_path_and_an_answer_cancels_its_timers(floor: Floor) -> None:
    await floor.deliver(_queued(), "late")
    await floor.deliver(_queued(), "answered")
    reply = ReplySent(agent_id="amy", channel="email", to="c@example.net", text="Hello")
    await floor.deliver(reply, "answered")

    answered = await floor.clocks("answered")
    assert answered["first_response"].state == "met"
    assert answered["resolution"].state == "running"

    floor.advance_to(46)  # 75 % of the hour
    await floor.fire()
    [warning] = await floor.emitted("sla.alert")
    assert warning["contact_id"] == "late" and warning["payload"]["stage"] == "warning"
    assert warning["payload"]["clock"] == "first_response"

    for minutes, level in ((61, "tier 2"), (122, "team leader"), (183, "complaints officer")):
        floor.advance_to(minutes)
        await floor.fire()
        escalations = await floor.emitted("contact.escalated")
        assert escalations[-1]["payload"]["level"] == level
    assert [e["contact_id"] for e in escalations] == ["late"] * 3
    assert [e["payload"]["priority"] for e in escalations] == [7, 8, 9]
    breaches = [a for a in await floor.emitted("sla.alert") if a["payload"]["stage"] == "breach"]
    assert [b["payload"]["notify"] for b in breaches] == [["lead"], ["lead"], ["officer"]]

    floor.advance_to(400)  # the last level reached: nothing more to climb
    await floor.fire()
    assert len(await floor.emitted("contact.escalated")) == 3
    late = await floor.clocks("late")
    assert late["first_response"].state == "breached" and late["first_response"].breaches == 3

    wrapped = ContactWrapped(agent_id="amy", disposition="done", outcome="resolved")
    await floor.deliver(wrapped, "late")
    assert (await floor.clocks("late"))["resolution"].state == "met"
    async with await floor.service.session() as session:
        left = (await session.exec(select(store.Timer))).all()
    assert {t.clock_id for t in left} == {(await floor.clocks("answered"))["resolution"].clock_id}


async def test_a_follow_up_falls_due_on_time_and_is_escalated_after_its_grace(floor: Floor) -> None:
    due_at = floor.t0 + timedelta(minutes=30)
    promised = FollowUpPromised(follow_up_id="f-1", agent_id="amy", due_at=due_at, channel="phone")
    await floor.deliver(promised, "c-f")
    floor.advance_to(29)
    await floor.fire()
    assert await floor.emitted("followup.due") == []
    floor.advance_to(30)
    await floor.fire()
    [due] = await floor.emitted("followup.due")
    assert due["payload"]["agent_id"] == "amy" and due["payload"]["follow_up_id"] == "f-1"
    floor.advance_to(46)  # 15 minutes' grace passed, not started
    await floor.fire()
    [escalated] = await floor.emitted("contact.escalated")
    assert escalated["payload"]["reopen"] is True and escalated["contact_id"] == "c-f"


async def test_a_follow_up_kept_before_its_promise_was_applied_never_falls_due(
    floor: Floor,
) -> None:
    """The promise and its keeping travel on different topics: applied in the other order, the
    follow-up is met, neither offered again nor escalated."""
    due_at = floor.t0 + timedelta(minutes=30)
    promised = FollowUpPromised(follow_up_id="f-2", agent_id="amy", due_at=due_at, channel="phone")
    await floor.deliver(FollowUpDone(follow_up_id="f-2", agent_id="amy"), "c-k")
    await floor.deliver(promised, "c-k")
    floor.advance_to(60)
    await floor.fire()
    assert await floor.emitted("followup.due") == []
    assert await floor.emitted("contact.escalated") == []
    follow_up = (await floor.clocks("c-k"))["follow_up"]
    assert follow_up.state == "met" and follow_up.stopped_at is not None


async def test_a_coaching_follow_up_undone_tells_the_team_leaders(floor: Floor) -> None:
    def session(follow_up: float | None, status: str = "planned") -> CoachingPlanned:
        at = None if follow_up is None else floor.t0 + timedelta(minutes=follow_up)
        return CoachingPlanned(
            coaching_id="co-1",
            agent_id="cat",
            coach="agent tl",
            topic="Wrap-ups",
            follow_up_at=at,
            status=status,
        )

    await floor.deliver(session(60), "co-1")
    await floor.deliver(session(90), "co-1")  # moved: the first date no longer counts
    floor.advance_to(61)
    await floor.fire()
    assert await floor.emitted("supervisor.alert") == []
    floor.advance_to(91)
    await floor.fire()
    [alert] = await floor.emitted("supervisor.alert")
    assert (
        alert["payload"]["kind"] == "coaching_follow_up" and alert["payload"]["agent_id"] == "cat"
    )
    assert "co-1" in alert["payload"]["message"]

    await floor.deliver(session(120), "co-1")
    await floor.deliver(session(120, "done"), "co-1")  # done in time: nobody is told
    floor.advance_to(121)
    await floor.fire()
    assert len(await floor.emitted("supervisor.alert")) == 1


async def test_complaints_have_their_own_clocks(floor: Floor) -> None:
    raised = ComplaintRaised(complaint_id="cp-1", agent_id="amy", category="billing", summary="x")
    await floor.deliver(raised, "c-c")
    clocks = await floor.clocks("c-c")
    acknowledge, respond = clocks["complaint_acknowledge"], clocks["complaint_respond"]
    assert respond.due_at - respond.started_at == timedelta(days=30)
    assert acknowledge.due_at > acknowledge.started_at
    await floor.deliver(ReplySent(agent_id="amy", channel="email", to="c@x.net"), "c-c")
    clocks = await floor.clocks("c-c")
    assert clocks["complaint_acknowledge"].state == "met"
    assert clocks["complaint_respond"].state == "running"


async def test_a_policy_in_use_is_versioned_not_edited(floor: Floor) -> None:
    await floor.deliver(_queued(), "before")
    async with floor.service.runtime.db.session() as session:
        await store.apply_centre(session, centre(first_response="2h"))
    await floor.deliver(_queued(), "after")
    before, after = await floor.clocks("before"), await floor.clocks("after")
    assert before["first_response"].policy_version == 1
    assert after["first_response"].policy_version == 2
    assert before["first_response"].within == "1h" and after["first_response"].within == "2h"


async def test_redelivery_starts_nothing_twice(floor: Floor) -> None:
    event = Envelope.first(_queued(), tenant_id="acme", aggregate_id="dup", contact_id="dup")
    await floor.service.deliver(event)
    await floor.service.deliver(event)
    async with await floor.service.session() as session:
        clocks = (await session.exec(select(store.Clock))).all()
        timers = (await session.exec(select(store.Timer))).all()
    assert len(clocks) == 2 and len(timers) == 4


async def test_a_timer_that_cannot_fire_is_set_aside_and_the_others_are_kept(floor: Floor) -> None:
    """A corrupt row (a contact whose escalation level is out of the path's range) makes its
    breach fail every time: it is retried on its own, then set aside with the reason, while the
    other contacts' promises are kept on time."""
    await floor.deliver(_queued(), "corrupt")
    await floor.deliver(_queued(), "fine")
    async with floor.service.runtime.db.session() as session:
        corrupt = await session.get(store.WatchedContact, "corrupt")
        assert corrupt is not None
        corrupt.level = -99
        session.add(corrupt)

    floor.advance_to(61)
    await floor.fire()

    escalated = [e["contact_id"] for e in await floor.emitted("contact.escalated")]
    assert escalated == ["fine"]
    async with await floor.service.session() as session:
        held = await setaside.listed(session)
        timers = {t.clock_id for t in (await session.exec(select(store.Timer))).all()}
    corrupt_clock = (await floor.clocks("corrupt"))["first_response"].clock_id
    [entry] = [h for h in held if h.loop == "escalation.timer"]
    assert entry.service == "escalation" and entry.reason.startswith("IndexError")
    assert entry.attempts == 5 and entry.row is not None
    assert entry.row["clock_id"] == corrupt_clock and corrupt_clock not in timers


async def test_a_walk_in_starts_no_service_level_clock(floor: Floor) -> None:
    walk_in = ContactQueued(
        queue_id="general", priority=5, reason="at the counter", channel="walk_in"
    )
    await floor.deliver(walk_in, "counter")
    assert await floor.clocks("counter") == {}
    floor.advance_to(400)
    await floor.fire()
    assert await floor.emitted("sla.alert") == []


async def test_an_answer_handled_before_the_first_queueing_still_stops_its_clock(
    floor: Floor,
) -> None:
    """A contact's events come on several topics: its reply may be handled before its first
    queueing. The clocks that queueing starts are met at once, and nothing is scheduled."""
    t0 = datetime.now(UTC)
    reply = ReplySent(agent_id="amy", channel="email", to="c@example.net", text="Hello")
    await floor.deliver(reply, "quick", occurred_at=t0 + timedelta(seconds=5))
    await floor.deliver(_queued(), "quick", occurred_at=t0)
    clocks = await floor.clocks("quick")
    assert clocks["first_response"].state == "met"
    assert clocks["resolution"].state == "running"
    floor.advance_to(61)
    await floor.fire()
    assert await floor.emitted("contact.escalated") == []


async def test_only_a_timer_due_within_a_tick_wakes_the_timers(floor: Floor) -> None:
    """Each queued contact schedules its clocks' timers: waking the loop for each would cost a
    write transaction per contact, though it looks again within a tick anyway."""
    loop = floor.timers.loop
    now = datetime.now(UTC)
    floor.timers.wake(now + timedelta(hours=4))
    assert not loop._woken.is_set()
    floor.timers.wake(now + timedelta(seconds=loop.tick / 2))
    assert loop._woken.is_set()
