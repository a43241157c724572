"""The quality programme under test (the `quality` fixture, in conftest.py): recording's handlers on
FastStream's in-memory broker and a fresh SQLite database, three agents' contacts over one day, a
quality form, and the API with the roles the desktop names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from switchboard.common import auth
from switchboard.common.centre import AgentConfig, CentreConfig, TenantConfig
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.catalogue import RetentionOffered
from switchboard.common.events.desktop import ContactWrapped
from switchboard.common.events.intake import CallEnded, ContactReceived, Party
from switchboard.common.events.records import SurveyResponded
from switchboard.common.events.routing import ContactAssigned
from switchboard.common.teams_config import QualityConfig
from switchboard.common.testing import ServiceUnderTest

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PERIOD = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
FORM = {
    "id": "calls",
    "title": "Calls",
    "sections": [
        {
            "id": "open",
            "title": "Opening",
            "questions": [
                {"id": "greeting", "text": "Greeted by script", "weight": 1},
                {"id": "identity", "text": "Checked identity", "weight": 3, "auto_fail": True},
            ],
        },
        {
            "id": "needs",
            "title": "Needs",
            "questions": [
                {
                    "id": "listening",
                    "text": "Listening",
                    "kind": "scale",
                    "scale_max": 4,
                    "weight": 4,
                }
            ],
        },
    ],
}
QUALITY = QualityConfig.model_validate(
    {
        "forms": [FORM],
        "required_wrapup": ["outcome", "notes"],
        "targets": {"average_handle_time": 240, "first_contact_resolution": 0.5},
        "team_targets": {"red": {"average_handle_time": 200}},
    }
)
CENTRE = CentreConfig(
    tenants=[
        TenantConfig(id="acme", name="Acme", quality=QUALITY),
        TenantConfig(id="globex", name="Globex"),
    ],
    agents=[
        AgentConfig(id=a, name=a.title(), tenants=[t], team=team)
        for a, t, team in (
            ("amy", "acme", "red"),
            ("bob", "acme", "red"),
            ("cat", "acme", "blue"),
            ("gus", "globex", "red"),
        )
    ],
)
OPERATOR, GATEWAY = "operator-token", "gateway-token"


def as_person(agent: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {GATEWAY}",
        auth.TENANT_HEADER: tenant,
        auth.AGENT_HEADER: agent,
        auth.ROLES_HEADER: ",".join(("agent", *roles)),
    }


ANALYST = as_person("qa1", "quality_analyst")
ANALYST_2 = as_person("qa2", "quality_analyst")
LEADER = as_person("tl", "team_leader")


class Contact:
    def __init__(
        self, n: int, channel: str, *, conversation: str | None = None, tenant: str = "acme"
    ) -> None:
        self.id, self.tenant = f"c{n}", tenant
        received = ContactReceived(
            channel=channel,
            conversation_id=conversation or f"conv-{n}",  # type: ignore[arg-type]
            received_at=T0 + timedelta(minutes=n),
            destination="help@acme.example",
            external_id=f"ext-{n}",
            customer=Party(name=f"Customer {n}", email=f"c{n}@example.net"),
        )
        self.first = Envelope.first(
            received,
            tenant_id=tenant,
            aggregate_id=self.id,
            contact_id=self.id,
            occurred_at=received.received_at,
        )
        self.events: list[Envelope[Any]] = [self.first]

    def at(self, seconds: float, payload: Payload, *, key: str | None = None) -> Contact:
        moment = self.first.occurred_at + timedelta(seconds=seconds)
        self.events.append(self.first.follow(payload, occurred_at=moment, aggregate_id=key))
        return self

    def handled(
        self,
        agent: str,
        start: float,
        end: float,
        outcome: str | None,
        notes: bool = True,
        call_end: float | None = None,
    ) -> Contact:
        self.at(
            start,
            ContactAssigned(
                offer_id=f"o-{self.id}-{agent}",
                agent_id=agent,
                queue_id="general",
                waited_seconds=1,
            ),
        )
        if call_end is not None:
            moment = self.first.occurred_at + timedelta(seconds=call_end)
            self.at(call_end, CallEnded(call_id=f"call-{self.id}", at=moment))
        return self.at(
            end,
            ContactWrapped(
                agent_id=agent,
                disposition="done",
                outcome=outcome,  # type: ignore[arg-type]
                notes="noted" if notes else None,
            ),
        )

    def survey(self, csat: int, nps: int) -> Contact:
        return self.at(3000, SurveyResponded(csat=csat, nps=nps, source="survey tool"))


def the_days_contacts() -> list[Contact]:
    return [
        Contact(1, "phone").handled("amy", 10, 260, "resolved", call_end=200).survey(5, 10),
        Contact(2, "email")
        .handled("amy", 5, 305, "sale")
        .survey(4, 9)
        .at(
            200,
            RetentionOffered(
                offer_id="o", name="Offer", agent_id="amy", reason="price", answer="accepted"
            ),
        ),
        Contact(3, "email")
        .handled("amy", 20, 140, "escalated", notes=False)
        .handled("bob", 200, 500, "resolved")
        .survey(3, 7),
        Contact(4, "phone").handled("bob", 0, 130, "no_sale", call_end=100).survey(2, 3),
        Contact(5, "email").handled("cat", 0, 600, None),
        Contact(6, "email").handled("cat", 0, 60, "resolved"),
        Contact(7, "email", conversation="conv-6"),
        Contact(8, "email").handled("cat", 0, 100, "resolved"),
        Contact(9, "email", tenant="globex").handled("gus", 0, 50, "resolved"),
    ]


class Quality:
    def __init__(self, service: ServiceUnderTest, http: httpx.AsyncClient) -> None:
        self.service, self.http = service, http

    async def ok(self, method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
        answer = await self.http.request(method, url, headers=headers, **kw)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()
