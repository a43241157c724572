"""The desktop under test (the `desktop` fixture, in conftest.py): its handlers on FastStream's
in-memory broker and a fresh SQLite database, its API over ASGI, two tenants and three agents, and
the events that bring a contact to an agent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from switchboard.common import mail as outgoing
from switchboard.common.centre import (
    AgentConfig,
    CentreConfig,
    QueueConfig,
    ScriptConfig,
    TenantConfig,
)
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.intake import ContactReceived, EmailDetails, Party
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    OfferReason,
)
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.desktop import store, streams
from switchboard.desktop.context import Desktop as DesktopContext
from switchboard.desktop.handlers import SERVICE, subscriptions
from switchboard.desktop.settings import DesktopSettings

CENTRE = CentreConfig(
    tenants=[
        TenantConfig(
            id="acme",
            name="Acme",
            queues=[
                QueueConfig(
                    id="general",
                    name="General enquiries",
                    default=True,
                    script=ScriptConfig(greeting="Hello, this is {agent}.", closing="Bye."),
                ),
                QueueConfig(id="tier2", name="Tier 2"),
            ],
        ),
        TenantConfig(id="globex", name="Globex", queues=[QueueConfig(id="main", name="Main")]),
    ],
    agents=[
        AgentConfig(id="amy", name="Amy Ang", tenants=["acme"], extension="2001"),
        AgentConfig(id="bob", name="Bob Bell", tenants=["acme"]),
        AgentConfig(id="gus", name="Gus Grey", tenants=["globex"], supervisor=True),
    ],
)
PASSWORDS = {"amy": "amy-pass", "bob": "bob-pass", "gus": "gus-pass"}


@dataclass
class Desktop:
    service: ServiceUnderTest
    http: httpx.AsyncClient

    async def sign_in(self, agent: str) -> dict[str, str]:
        answer = await self.http.post(
            "/v1/session", json={"username": agent, "password": PASSWORDS[agent]}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    async def outbox_of(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in await self.service.outbox() if e["event_type"] == event_type]

    def event(self, payload: Payload, contact_id: str, tenant: str = "acme") -> Envelope[Any]:
        return Envelope.first(
            payload,
            tenant_id=tenant,
            aggregate_id=contact_id,
            contact_id=contact_id,
            correlation_id=f"corr-{contact_id}",
        )

    async def email_arrives(self, contact_id: str, tenant: str = "acme") -> None:
        received = ContactReceived(
            channel="email",
            conversation_id=f"conv-{contact_id}",
            conversation_token="K7Q2",
            received_at=datetime.now(UTC),
            destination="help@acme.example",
            external_id=f"<{contact_id}@mail.example.net>",
            customer=Party(name="Jo Citizen", email="jo@example.net"),
            subject="My bill is wrong",
            text="Card ending [card masked] was charged twice.",
            email=EmailDetails(  # as intake keeps them: without angle brackets
                message_id=f"{contact_id}@mail.example.net", references=["older@mail.example.net"]
            ),
            masked=["card"],
        )
        await self.service.deliver(self.event(received, contact_id, tenant))

    async def offered(self, contact_id: str, agent: str, tenant: str = "acme") -> str:
        offer_id = f"offer-{contact_id}-{agent}"
        offered = AgentOffered(
            offer_id=offer_id,
            agent_id=agent,
            queue_id="general",
            channel="email",
            priority=5,
            expires_at=datetime.now(UTC) + timedelta(seconds=60),
            timeout_seconds=60,
            reason=OfferReason(
                queue_id="general", rule="default", step="0", considered=[], why="-"
            ),
        )
        await self.service.deliver(self.event(offered, contact_id, tenant))
        return offer_id

    async def assigned(self, contact_id: str, agent: str) -> None:
        await self.email_arrives(contact_id)
        offer_id = await self.offered(contact_id, agent)
        assigned = ContactAssigned(
            offer_id=offer_id, agent_id=agent, queue_id="general", waited_seconds=3.0
        )
        await self.service.deliver(self.event(assigned, contact_id))


@asynccontextmanager
async def running_desktop(
    tmp_path: Path, centre: CentreConfig, passwords: dict[str, str], *routers: APIRouter
) -> AsyncIterator[tuple[ServiceUnderTest, httpx.AsyncClient]]:
    """The desktop's handlers with `centre`'s agents signed up, and `routers` over ASGI."""
    settings = DesktopSettings(var_dir=tmp_path)

    async def prepare(runtime: Any) -> None:
        mailer = outgoing.mailer(None, settings.mail_sink)
        runtime.context = desktop = DesktopContext(runtime, settings, streams.Wakeups(), mailer)
        async with runtime.db.session() as session:
            await store.apply_centre(session, centre, passwords)
            desktop.session_key.load(await store.signing_key(session))

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        app = FastAPI()
        app.state.runtime = service.runtime
        for router in routers:
            app.include_router(router)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desktop") as http:
            yield service, http


async def numbered_frames(frames: AsyncIterator[str], count: int) -> list[str]:
    """The next `count` numbered frames of a stream (those with an `id:`), each within 5 s."""
    got: list[str] = []
    while len(got) < count:
        chunk = await asyncio.wait_for(anext(frames), timeout=5)
        if chunk.startswith("id: "):
            got.append(chunk)
    return got
