"""Routing's wiring on FastStream's in-memory broker: contacts in, queued and offered out; an
acceptance assigns, a decline re-offers, a hang-up withdraws."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services.routing.tests.routing_under_test import (
    CENTRE,
    agent_event,
    contact_received,
    of_type,
    seeded,
    step,
)
from switchboard.common import setaside
from switchboard.common.centre import AgentConfig, CentreConfig, QueueConfig, TenantConfig
from switchboard.common.events.desktop import (
    ContactAccepted,
    ContactDeclined,
    ContactWrapped,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.intake import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
)
from switchboard.common.runtime import Runtime
from switchboard.common.testing import service_under_test
from switchboard.routing import store
from switchboard.routing.app import prepare
from switchboard.routing.context import Routing
from switchboard.routing.handlers import SERVICE, subscriptions
from switchboard.routing.settings import RoutingSettings


async def test_a_received_contact_is_queued_once_however_often_delivered(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        event = contact_received()
        await routing.deliver(event)
        await routing.deliver(event)  # redelivered: no second effect

        async with await routing.session() as session:
            entries = (await session.exec(select(store.QueueEntry))).all()
        assert [(e.contact_id, e.queue_id) for e in entries] == [("k-1", "general")]
        [queued] = await routing.outbox()
        assert queued["event_type"] == "contact.queued"
        assert queued["causation_id"] == event.event_id
        assert queued["payload"]["queue_id"] == "general"


async def test_a_tenant_and_agent_onboarded_while_routing_runs_are_routed_at_once(
    tmp_path: Path,
) -> None:
    """`switchboard tenant add` writes the record while routing runs: the new tenant's first
    contact is queued, and its new agent is offered it on going available, with no restart."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        later = CentreConfig(
            tenants=[
                TenantConfig(
                    id="initech",
                    name="Initech",
                    queues=[QueueConfig(id="desk", name="Desk", default=True)],
                )
            ],
            agents=[AgentConfig(id="ivy", name="Ivy", tenants=["initech"])],
        )
        async with routing.runtime.db.session() as session:
            await store.apply_centre(session, later)
        contact = contact_received("k-9").model_copy(update={"tenant_id": "initech"})
        await routing.deliver(contact)
        [queued] = of_type(await routing.outbox(), "contact.queued")
        assert queued["payload"]["queue_id"] == "desk"
        ivy = agent_event("ivy", "available").model_copy(update={"tenant_id": "initech"})
        await routing.deliver(ivy)
        [offered] = of_type(await step(routing), "agent.offered")
        assert (offered["aggregate_id"], offered["contact_id"]) == ("ivy", "k-9")


async def test_an_auto_reply_is_not_routed(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        await routing.deliver(contact_received(flags=["auto_reply"]))
        [event] = await routing.outbox()
        assert event["event_type"] == "contact.not_routed"
        assert "auto_reply" in event["payload"]["reason"]


async def test_offer_decline_reoffer_accept(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        received = contact_received()
        await routing.deliver(received)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        assert offered["aggregate_id"] == "amy" and offered["contact_id"] == "k-1"
        assert offered["correlation_id"] == received.correlation_id
        assert offered["payload"]["reason"]["why"].startswith("amy:")
        await routing.deliver(agent_event("bob", "available"))
        declined = ContactDeclined(offer_id=offered["payload"]["offer_id"], agent_id="amy")
        await routing.deliver(received.follow(declined))
        offers = of_type(await step(routing), "agent.offered")
        assert [o["aggregate_id"] for o in offers] == ["amy", "bob"]
        accepted = ContactAccepted(offer_id=offers[1]["payload"]["offer_id"], agent_id="bob")
        await routing.deliver(received.follow(accepted))
        [assigned] = of_type(await routing.outbox(), "contact.assigned")
        assert assigned["payload"]["agent_id"] == "bob"
        engine = Routing.of(routing.runtime).acd.engine
        assert engine.agents["bob"].state == "on_contact" and "k-1" not in engine.waiting


@pytest.mark.parametrize("wrap_first", [True, False])
async def test_an_agents_escalation_moves_the_contact_to_the_target_queue(
    tmp_path: Path, wrap_first: bool
) -> None:
    """The agent's wrap-up and escalation travel on two topics, so either may arrive first; both
    orders free the agent and queue the contact in tier 2 for someone else."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        received = contact_received()
        await routing.deliver(received)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        accepted = ContactAccepted(offer_id=offered["payload"]["offer_id"], agent_id="amy")
        await routing.deliver(received.follow(accepted))
        wrapped = received.follow(
            ContactWrapped(agent_id="amy", disposition="escalated", outcome="escalated")
        )
        escalated = received.follow(
            ContactEscalated(reason="needs authority", queue_id="tier2", requested_by="amy")
        )
        for event in (wrapped, escalated) if wrap_first else (escalated, wrapped):
            await routing.deliver(event)
        [requeued] = [
            q
            for q in of_type(await routing.outbox(), "contact.queued")
            if q["payload"]["queue_id"] == "tier2"
        ]
        assert requeued["payload"]["reason"] == "escalated by amy: needs authority"

        await routing.deliver(agent_event("bob", "available"))
        offers = of_type(await step(routing), "agent.offered")
        assert [(o["aggregate_id"], o["payload"]["queue_id"]) for o in offers[1:]] == [
            ("bob", "tier2")
        ]
        engine = Routing.of(routing.runtime).acd.engine
        assert engine.agents["amy"].active == {} and engine.agents["amy"].state == "available"


async def test_a_caller_who_hangs_up_withdraws_the_offer(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-1", channel="phone")
        await routing.deliver(call)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        hung_up = CallAbandoned(call_id="call-call-1", at=datetime.now(UTC))
        await routing.deliver(call.follow(hung_up))
        [withdrawn] = of_type(await routing.outbox(), "agent.offer_withdrawn")
        assert withdrawn["payload"] == {
            "offer_id": offered["payload"]["offer_id"],
            "agent_id": "amy",
            "reason": "abandoned",
        }
        async with await routing.session() as session:
            entry = await session.get(store.QueueEntry, "call-1")
        assert entry is not None and entry.status == "abandoned"


@pytest.mark.parametrize("at_pbx", ["answered", "ended"])
async def test_a_call_answered_or_ended_at_the_pbx_while_queued_is_never_offered(
    tmp_path: Path, at_pbx: str
) -> None:
    """The ghost call: a call answered (by someone the ACD did not choose) or ended at the PBX
    while it waits leaves the line, and an agent who comes free later is not offered it."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-2", channel="phone")
        await routing.deliver(call)
        happened = (
            CallAnswered(call_id="call-call-2", at=datetime.now(UTC), agent_ref="ext-201")
            if at_pbx == "answered"
            else CallEnded(call_id="call-call-2", at=datetime.now(UTC), duration_seconds=40)
        )
        await routing.deliver(call.follow(happened))
        await routing.deliver(agent_event("amy", "available"))
        assert of_type(await step(routing), "agent.offered") == []
        async with await routing.session() as session:
            entry = await session.get(store.QueueEntry, "call-2")
        assert entry is not None
        assert entry.status == ("answered_at_pbx" if at_pbx == "answered" else "ended")
        assert "call-2" not in Routing.of(routing.runtime).acd.engine.waiting


async def test_an_offered_call_ended_at_the_pbx_withdraws_the_offer(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        call = contact_received("call-3", channel="phone")
        await routing.deliver(call)
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        await routing.deliver(call.follow(CallEnded(call_id="call-call-3", at=datetime.now(UTC))))
        [withdrawn] = of_type(await routing.outbox(), "agent.offer_withdrawn")
        assert withdrawn["payload"]["offer_id"] == offered["payload"]["offer_id"]
        assert withdrawn["payload"]["reason"] == "ended"


async def test_an_agent_who_lets_offers_lapse_is_put_on_break_and_the_supervisor_told(
    tmp_path: Path,
) -> None:
    impatient = RoutingSettings(
        routing_offer_timeout_written_seconds=1, routing_missed_offers_limit=1
    )

    async def seeded(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            await store.apply_centre(session, CENTRE)
        await prepare(runtime, impatient)

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        await routing.deliver(contact_received())
        await routing.deliver(agent_event("amy", "available"))
        [offered] = of_type(await step(routing), "agent.offered")
        await asyncio.sleep(1.1)
        events = await step(routing)
        [withdrawn] = of_type(events, "agent.offer_withdrawn")
        assert withdrawn["payload"]["reason"] == "timed_out"
        [state] = of_type(events, "agent.state")
        assert state["payload"] == {
            "agent_id": "amy",
            "state": "break",
            "reason": "missed offers",
            "source": "routing",
        }
        [alert] = of_type(events, "supervisor.alert")
        assert alert["aggregate_id"] == "acme" and "amy" in alert["payload"]["message"]
        async with await routing.session() as session:
            agent = await session.get(store.RoutingAgent, "amy")
            offer = await session.get(store.RoutingOffer, offered["payload"]["offer_id"])
        assert agent is not None and (agent.presence, agent.break_reason) == (
            "break",
            "missed offers",
        )
        assert offer is not None and offer.status == "timed_out"
        await routing.deliver(agent_event("bob", "available"))
        [_, again] = of_type(await step(routing), "agent.offered")
        assert again["aggregate_id"] == "bob", "the contact went on to the next agent"


async def test_a_contact_whose_offer_cannot_be_recorded_is_set_aside_and_others_are_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault injected into one contact's offer (as a bug or a corrupt row would make it fail
    every time): that contact leaves the line, set aside with the reason; the other is offered."""
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=seeded) as routing:
        await routing.deliver(contact_received("poison"))
        await routing.deliver(contact_received("fine"))
        distributor = Routing.of(routing.runtime).acd
        record = distributor._record_offer

        async def failing_for_poison(tx: Any, offer: Any) -> bool:
            if offer.contact_id == "poison":
                raise RuntimeError("cannot offer this one")
            return await record(tx, offer)

        monkeypatch.setattr(distributor, "_record_offer", failing_for_poison)
        await routing.deliver(agent_event("amy", "available"))
        await routing.deliver(agent_event("bob", "available"))
        offered = of_type(await step(routing), "agent.offered")
        assert [o["contact_id"] for o in offered] == ["fine"]
        assert "poison" not in distributor.engine.waiting
        async with await routing.session() as session:
            [held] = await setaside.listed(session)
            live = [entry.contact_id for entry in await store.live_entries(session)]
        assert live == ["fine"], "a restart takes back the offered contact, not the set-aside one"
        assert (held.loop, held.ref) == ("routing.offer", "poison")
        assert held.reason == "RuntimeError: cannot offer this one"
