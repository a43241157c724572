"""The catalogue on a migrated database (SQLite and the local PostgreSQL: its search index is made
by the migration), FastStream's in-memory broker, and its API over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from switchboard.catalogue import ports, store
from switchboard.catalogue.app import mount
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.handlers import SERVICE, subscriptions
from switchboard.catalogue.settings import CatalogueSettings
from switchboard.cli import migrations
from switchboard.cli.scratch import create_database, drop_database
from switchboard.common import auth
from switchboard.common.centre import AgentConfig, CentreConfig, TenantConfig
from switchboard.common.envelope import Envelope
from switchboard.common.outbox import OutboxMessage
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.common.testing.databases import PG_ADMIN_URL, unreachable

OPERATOR, GATEWAY = "operator-token", "gateway-token"
CONTACT = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def person(agent: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
    """Headers of the desktop asking for `agent` with `roles` (besides agent)."""
    return {
        "Authorization": f"Bearer {GATEWAY}",
        auth.TENANT_HEADER: tenant,
        auth.AGENT_HEADER: agent,
        auth.ROLES_HEADER: ",".join(("agent", *roles)),
    }


ADMIN = {"Authorization": f"Bearer {OPERATOR}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.db'}"
        return
    try:
        url, name = create_database(PG_ADMIN_URL, "catalogue_test")
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unreachable(error)
    yield url
    drop_database(PG_ADMIN_URL, name)


class Running:
    """The catalogue under test: its runtime, an HTTP client, and who may ask."""

    admin = ADMIN
    contact = CONTACT

    def __init__(self, runtime: Runtime, http: httpx.AsyncClient) -> None:
        self.runtime, self.http = runtime, http

    @staticmethod
    def person(agent: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
        return person(agent, *roles, tenant=tenant)

    async def ok(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        content_type: str | None = None,
        **kw: Any,
    ) -> Any:
        if content_type:
            headers = {**headers, "Content-Type": content_type}
        answer = await self.http.request(method, url, headers=headers, **kw)
        assert answer.status_code in (200, 201, 202), answer.text
        return answer.json()

    async def refused(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        status: int,
        *,
        content_type: str | None = None,
        **kw: Any,
    ) -> str:
        if content_type:
            headers = {**headers, "Content-Type": content_type}
        answer = await self.http.request(method, url, headers=headers, **kw)
        assert answer.status_code == status, answer.text
        return answer.text

    async def emitted(self, event_type: str | None = None) -> list[dict[str, Any]]:
        async with self.runtime.db.reader() as session:
            rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            found = [Envelope[Any].model_validate_json(r.value).model_dump() for r in rows]
        return [e for e in found if event_type is None or e["event_type"] == event_type]


def centre(catalogue: dict[str, Any]) -> CentreConfig:
    return CentreConfig(
        tenants=[
            TenantConfig.model_validate(
                {
                    "id": "acme",
                    "name": "Acme",
                    "catalogue": catalogue,
                    "queues": [{"id": q, "name": q} for q in ("general", "billing", "retention")],
                }
            ),
            TenantConfig(id="globex", name="Globex"),
        ],
        agents=[AgentConfig(id="amy", name="Amy", tenants=["acme"])],
    )


@pytest.fixture
async def running(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Running]:
    config: CentreConfig = getattr(request, "param", None) or centre(CATALOGUE)
    settings = CatalogueSettings(var_dir=tmp_path, database_url=database_url)
    runtime = build_runtime(SERVICE, settings)
    runtime.context = Catalogue(
        runtime, settings, ports.bureau(settings), ports.payments(settings, b"test key")
    )
    subscriptions.attach(runtime)
    await migrations.upgrade(runtime.db.url)
    async with runtime.db.session() as session:
        await store.apply_centre(session, centre=config)
        await auth.grant(session, token=OPERATOR, tenant_id="acme", label="ops")
        await auth.grant_gateway(session, token=GATEWAY, label="desktop")
    app = build_http(runtime, title="catalogue under test")
    mount(app)
    try:
        async with TestKafkaBroker(runtime.broker):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://catalogue") as http:
                yield Running(runtime, http)
    finally:
        await runtime.db.dispose()
        runtime.tracer_provider.shutdown()


CATALOGUE: dict[str, Any] = {
    "cancellation_queues": ["retention"],
    "discount_limits": {"agent": 10, "team_leader": 30},
    "products": [
        {
            "id": "meter",
            "name": "Smart meter",
            "price": "99.00",
            "installation": {
                "work_type": "meter-install",
                "skills": ["meters"],
                "estimated_minutes": 60,
            },
        },
        {
            "id": "battery",
            "name": "Solar battery",
            "price": "990.00",
            "credit_check": True,
            "plans": [{"id": "b24", "name": "24 months", "monthly": "349.00", "term_months": 24}],
            "eligibility": {"customer_types": ["residential"], "states": ["NSW", "ACT"]},
        },
        {
            "id": "green",
            "name": "GreenPower",
            "kind": "service",
            "plans": [{"id": "monthly", "name": "Monthly", "monthly": "12.00"}],
        },
        {"id": "monitor", "name": "Energy monitor", "price": "149.00", "delivery": True},
    ],
    "retention_offers": [
        {
            "id": "loyalty",
            "name": "10% loyalty discount",
            "reasons": ["price", "competitor"],
            "min_tenure_months": 24,
        },
        {"id": "recontract", "name": "$100 to re-contract", "contract_ends_within_days": 60},
        {"id": "moving", "name": "Free connection at the new home", "reasons": ["moving"]},
    ],
}
