"""Routing's calls and transfers on its handlers: a call bridged to the agent or back in line, a
callback keeping its place and dialled again, a transfer to a named agent, a walk-in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services.routing.tests.routing_under_test import (
    agent_event,
    contact_received,
    of_type,
    seeded,
    step,
)
from switchboard.common.envelope import Envelope
from switchboard.common.events.channels import CallCommandResult, TransferRequested
from switchboard.common.events.desktop import (
    ContactAccepted,
    ContactWrapped,
)
from switchboard.common.events.intake import (
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    ContactReceived,
    WalkInDetails,
)
from switchboard.common.testing import service_under_test
from switchboard.routing import store
from switchboard.routing.context import Routing
from switchboard.routing.handlers import SERVICE, subscriptions


def _accept(received: Envelope[ContactReceived], offered: dict[str, Any], agent: str) -> Any:
    return received.follow(ContactAccepted(offer_id=offered["payload"]["offer_id"], agent_id=agent))


def _result(
    received: Envelope[ContactReceived], command: str, outcome: str, agent: str
) -> Envelope[CallCommandResult]:
    payload = CallCommandResult(
        command_id="cmd-1",
        call_id="call-call-1",
        command=command,
        outcome=outcome,
        attempts=1,
        reason="busy line",
        agent_id=agent,
    )  # type: ignore[arg-type]
    return received.follow(payload)


async def test_a_call_is_bridged_and_goes_back_in_line_when_it_cannot_be(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-1", channel="phone")
        await routing.deliver(call)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        await routing.deliver(_accept(call, offered, "amy"))
        [route] = of_type(await routing.outbox(), "call.route")
        assert route["payload"]["call_id"] == "call-call-1"
        assert (route["payload"]["agent_id"], route["payload"]["extension"]) == ("amy", "amy")
        await routing.deliver(_result(call, "route", "failed", "amy"))
        events = await routing.outbox()
        [withdrawn] = of_type(events, "agent.offer_withdrawn")
        assert withdrawn["payload"]["reason"] == "not_connected"
        requeued = of_type(events, "contact.queued")[-1]
        assert "could not be connected to amy" in requeued["payload"]["reason"]
        engine = Routing.of(routing.runtime).acd.engine
        assert "call-1" in engine.waiting and engine.agents["amy"].active == {}
        await routing.deliver(agent_event("bob", "available"))
        offers = of_type(await step(routing), "agent.offered")
        assert offers[-1]["aggregate_id"] == "bob"  # not amy again for a while


@pytest.mark.parametrize("arrival", ["hang_up_first", "asked_first", "before_the_call"])
async def test_a_callback_keeps_its_place_is_dialled_and_tried_again(
    tmp_path: Path, arrival: str
) -> None:
    """The caller's hang-up and their asking to be called back may be applied in either order,
    and both before the call itself (each its own topic: `early`)."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-1", channel="phone")
        asked = call.follow(
            CallbackRequested(
                call_id="call-call-1", at=datetime.now(UTC), callback_number="+61412555666"
            )
        )
        hung_up = call.follow(CallAbandoned(call_id="call-call-1", at=datetime.now(UTC)))
        in_order = {
            "hang_up_first": (call, hung_up, asked),
            "asked_first": (call, asked, hung_up),
            "before_the_call": (hung_up, asked, call),
        }
        for event in in_order[arrival]:
            await routing.deliver(event)
        async with await routing.session() as session:
            entry = await session.get(store.QueueEntry, "call-1")
        assert entry is not None and entry.status == "waiting"
        assert entry.callback_number == "+61412555666"
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        await routing.deliver(_accept(call, offered, "amy"))
        events = await routing.outbox()
        assert not of_type(events, "call.route"), "the caller is not on the line to bridge"
        [cleared] = of_type(events, "outbound.cleared")
        assert cleared["payload"]["request_id"] == "callback:call-1:1"
        [dial] = of_type(events, "call.control")
        assert dial["payload"]["action"] == "dial" and dial["payload"]["target"] == "+61412555666"
        await routing.deliver(_result(call, "dial", "no_answer", "amy"))
        [result] = of_type(await routing.outbox(), "callback.result")
        assert result["payload"]["outcome"] == "retry" and result["payload"]["attempt"] == 1
        wrapped = ContactWrapped(agent_id="amy", disposition="no-answer", outcome="unresolved")
        await routing.deliver(call.follow(wrapped))
        again = of_type(await routing.outbox(), "contact.queued")[-1]
        assert again["payload"]["reason"].startswith("callback: tried again from")
        engine = Routing.of(routing.runtime).acd.engine
        assert engine.waiting["call-1"].not_before > engine.waiting["call-1"].enqueued_at


async def _kept(routing: Any) -> list[store.EarlyCallEvent]:
    async with await routing.session() as session:
        return list((await session.exec(select(store.EarlyCallEvent))).all())


@pytest.mark.parametrize(
    ("gone", "outcome"),
    [(CallAbandoned, "abandoned"), (CallAnswered, "answered_at_pbx"), (CallEnded, "ended")],
)
async def test_a_call_gone_before_it_came_is_never_offered(
    tmp_path: Path, gone: type[CallAbandoned | CallAnswered | CallEnded], outcome: str
) -> None:
    """The caller's hang-up (or an answer at the PBX) travels on another topic than the call:
    applied first, it is kept, and the call then leaves the line as it joins it, as in the other
    order."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-1", channel="phone")
        await routing.deliver(call.follow(gone(call_id="call-call-1", at=datetime.now(UTC))))
        assert [kept.topic for kept in await _kept(routing)] == [gone.event_type]
        await routing.deliver(call)
        await routing.deliver(agent_event("amy", "available"))
        events = await step(routing)
        assert not of_type(events, "agent.offered")
        [queued] = of_type(events, "contact.queued")  # counted as offered to its queue, as before
        assert queued["payload"]["queue_id"] == "general"
        async with await routing.session() as session:
            entry = await session.get(store.QueueEntry, "call-1")
        assert entry is not None and entry.status == outcome
        assert "call-1" not in Routing.of(routing.runtime).acd.engine.waiting
        assert await _kept(routing) == []


async def test_a_refused_call_s_later_events_are_not_kept(tmp_path: Path) -> None:
    """A call routing refuses leaves an entry that says so: its hang-up finds the call gone
    instead of waiting for ever for a call to come."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-1", channel="phone", flags=["auto_reply"])
        await routing.deliver(call)
        [refused] = of_type(await routing.outbox(), "contact.not_routed")
        assert refused["payload"]["reason"].startswith("automated message")
        await routing.deliver(call.follow(CallEnded(call_id="call-call-1", at=datetime.now(UTC))))
        asked = CallbackRequested(
            call_id="call-call-1", at=datetime.now(UTC), callback_number="+61412555666"
        )
        await routing.deliver(call.follow(asked))
        assert await _kept(routing) == []
        async with await routing.session() as session:
            entry = await session.get(store.QueueEntry, "call-1")
        assert entry is not None and entry.status == "not_routed"
        assert entry.callback_number is None


@pytest.mark.parametrize("wrapped_first", [False, True])
async def test_a_transfer_to_a_named_agent_goes_to_them_first(
    tmp_path: Path, wrapped_first: bool
) -> None:
    """The agent asks for the transfer, then wraps up; the two come on different topics, so the
    wrap-up may be applied first (on Kafka, different partitions), and the transfer still holds."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        received = contact_received()
        await routing.deliver(received)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        await routing.deliver(_accept(received, offered, "amy"))
        await routing.deliver(agent_event("bob", "available"))
        if wrapped_first:
            wrapped = ContactWrapped(
                agent_id="amy", disposition="transferred", outcome="unresolved"
            )
            await routing.deliver(received.follow(wrapped))
        transfer = TransferRequested(
            transfer_id="t-1",
            from_agent_id="amy",
            mode="blind",
            to_agent_id="bob",
            reason="billing",
        )
        await routing.deliver(received.follow(transfer))
        offers = of_type(await step(routing), "agent.offered")
        assert offers[-1]["aggregate_id"] == "bob"
        assert offers[-1]["payload"]["reason"]["why"] == "bob: transferred to them by name"
        engine = Routing.of(routing.runtime).acd.engine
        assert engine.agents["amy"].active == {}, "a blind transfer frees the first agent"


async def test_a_walk_in_is_its_agents_at_once(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        base = contact_received("w-1")
        walk_in = base.model_copy(
            update={
                "payload": base.payload.model_copy(
                    update={
                        "channel": "walk_in",
                        "walk_in": WalkInDetails(
                            walk_in_id="w-1", agent_id="amy", started_at=datetime.now(UTC)
                        ),
                    }
                )
            }
        )
        await routing.deliver(walk_in)
        events = await routing.outbox()
        [assigned] = of_type(events, "contact.assigned")
        assert assigned["payload"]["agent_id"] == "amy"
        assert assigned["payload"]["waited_seconds"] == 0
        engine = Routing.of(routing.runtime).acd.engine
        assert engine.agents["amy"].active == {"w-1": "walk_in"}
