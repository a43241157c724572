"""Recording's unit tier fixtures (what they build is `quality_under_test`'s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.recording.tests.quality_under_test import (
    CENTRE,
    GATEWAY,
    OPERATOR,
    T0,
    Quality,
    the_days_contacts,
)
from switchboard.common import auth
from switchboard.common.envelope import Envelope
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.events.workforce import AdherenceChanged
from switchboard.common.testing import service_under_test
from switchboard.recording import api as record_api
from switchboard.recording import kpis, store
from switchboard.recording.handlers import SERVICE, subscriptions
from switchboard.recording.quality import api, team_api


@pytest.fixture
async def quality(tmp_path: Path) -> AsyncIterator[Quality]:
    async def prepare(runtime: Any) -> None:
        async with runtime.db.session() as session:
            await kpis.apply_centre(session, CENTRE)
            await auth.grant(session, token=OPERATOR, tenant_id="acme", label="ops")
            await auth.grant_gateway(session, token=GATEWAY, label="desktop")

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        for contact in the_days_contacts():
            for event in contact.events:
                await service.deliver(event)
        async with await service.session() as session:
            c5 = await store.contact(session, contact_id="c5", tenant_id="acme")
        assert c5 is not None and c5.customer_id is not None
        corrected = CustomerCorrected(
            field="name", new_value="Customer Five", reason="typo", actor="ops"
        )
        await service.deliver(
            Envelope.first(
                corrected,
                tenant_id="acme",
                aggregate_id=c5.customer_id,
                occurred_at=T0 + timedelta(hours=2),
            )
        )
        adherence = AdherenceChanged(
            agent_id="amy",
            team="red",
            day=date(2026, 11, 24),
            expected="available",
            actual="available",
            scheduled_seconds=8 * 3600,
            adherent_seconds=7 * 3600,
        )
        await service.deliver(
            Envelope.first(
                adherence, tenant_id="acme", aggregate_id="amy", occurred_at=T0 + timedelta(hours=8)
            )
        )
        app = FastAPI()
        app.state.runtime = service.runtime
        app.include_router(api.router)
        app.include_router(team_api.router)
        app.include_router(record_api.router)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://recording") as http:
            yield Quality(service, http)
