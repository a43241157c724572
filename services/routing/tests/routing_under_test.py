"""Routing under test: its handlers on FastStream's in-memory broker and a fresh SQLite database,
a small centre, and the events the tests deliver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from switchboard.common.centre import AgentConfig, CentreConfig, QueueConfig, TenantConfig
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import (
    AgentStateChanged,
)
from switchboard.common.events.intake import (
    ContactReceived,
    Party,
    PhoneDetails,
)
from switchboard.common.runtime import Runtime
from switchboard.common.testing import ServiceUnderTest
from switchboard.routing import store
from switchboard.routing.app import prepare
from switchboard.routing.context import Routing
from switchboard.routing.settings import RoutingSettings

CENTRE = CentreConfig(
    tenants=[
        TenantConfig(
            id="acme",
            name="Acme",
            queues=[
                QueueConfig(id="general", name="General", default=True),
                QueueConfig(id="tier2", name="Tier 2"),
            ],
            callbacks={"hours": []},  # dialled at any hour, so the test passes at night
        )
    ],
    agents=[
        AgentConfig(id="amy", name="Amy", tenants=["acme"]),
        AgentConfig(id="bob", name="Bob", tenants=["acme"]),
    ],
)


def contact_received(
    contact_id: str = "k-1", *, flags: list[str] | None = None, channel: str = "email"
) -> Envelope[ContactReceived]:
    payload = ContactReceived(
        channel=channel,  # type: ignore[arg-type]
        conversation_id="conv-1",
        received_at=datetime.now(UTC),
        destination="help@acme.example",
        external_id=f"m-{contact_id}",
        customer=Party(email="a@example.net"),
        flags=flags or [],
        phone=PhoneDetails(call_id=f"call-{contact_id}", dnis="+61255501000")
        if channel == "phone"
        else None,
    )
    return Envelope.first(payload, tenant_id="acme", aggregate_id=contact_id, contact_id=contact_id)


async def seeded(runtime: Runtime) -> None:
    async with runtime.db.session() as session:
        await store.apply_centre(session, CENTRE)
    await prepare(runtime, RoutingSettings())


def agent_event(agent_id: str, state: str) -> Envelope[AgentStateChanged]:
    payload = AgentStateChanged(agent_id=agent_id, state=state)  # type: ignore[arg-type]
    return Envelope.first(payload, tenant_id="acme", aggregate_id=agent_id)


async def step(routing: ServiceUnderTest) -> list[dict[str, Any]]:
    await Routing.of(routing.runtime).acd.step()
    return await routing.outbox()


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] == event_type]
