"""The agent's side of the quality programme: evaluations, feedback and coaching reach the right
desktops; an agent answers only their own evaluation, once; the quality pages say plainly when
recording's credential is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.desktop.tests.desktop_under_test import running_desktop
from switchboard.common.centre import AgentConfig, CentreConfig, TenantConfig
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.quality import (
    CoachingAction,
    CoachingPlanned,
    EvaluationPublished,
    FeedbackPosted,
    ScoredQuestion,
)
from switchboard.common.testing import ServiceUnderTest
from switchboard.desktop import api, inbox_store, quality_api

CENTRE = CentreConfig(
    tenants=[TenantConfig(id="acme", name="Acme"), TenantConfig(id="globex", name="Globex")],
    agents=[
        AgentConfig(id="amy", name="Amy", tenants=["acme"], team="red"),
        AgentConfig(id="bob", name="Bob", tenants=["acme"], team="red"),
        AgentConfig(id="cat", name="Cat", tenants=["acme"], team="blue"),
        AgentConfig(id="gus", name="Gus", tenants=["globex"], team="red"),
    ],
)
PASSWORDS = {a.id: f"{a.id}-pass" for a in CENTRE.agents}


class Desktop:
    def __init__(self, service: ServiceUnderTest, http: httpx.AsyncClient) -> None:
        self.service, self.http = service, http

    async def sign_in(self, agent: str) -> dict[str, str]:
        answer = await self.http.post(
            "/v1/session", json={"username": agent, "password": PASSWORDS[agent]}
        )
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    async def deliver(self, payload: Payload, key: str, tenant: str = "acme", **at: Any) -> None:
        await self.service.deliver(
            Envelope.first(payload, tenant_id=tenant, aggregate_id=key, **at)
        )

    async def told(self, agent: str) -> list[str]:
        async with await self.service.session() as session:
            return [
                e.event_type
                for e in await inbox_store.inbox_after(session, agent_id=agent, after=0)
            ]


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[Desktop]:
    routers = (api.router, quality_api.router)
    async with running_desktop(tmp_path, CENTRE, PASSWORDS, *routers) as (service, http):
        yield Desktop(service, http)


def _evaluation(status: str = "submitted", agent: str = "amy") -> EvaluationPublished:
    return EvaluationPublished(
        evaluation_id="ev-1",
        agent_id=agent,
        evaluated_contact_id="c1",
        form_title="Calls",
        evaluator="agent qa",
        score=75.0,
        auto_failed=False,
        comment="Listen more",
        questions=[
            ScoredQuestion(section="Opening", question="Greeted", answer="yes", points=1, out_of=1)
        ],
        status=status,  # type: ignore[arg-type]
    )


async def test_an_evaluation_reaches_its_agent_who_answers_it_once(desktop: Desktop) -> None:
    published = datetime.now(UTC)
    await desktop.deliver(_evaluation(), "ev-1", occurred_at=published)
    assert "evaluation" in await desktop.told("amy") and await desktop.told("bob") == []
    amy, bob = await desktop.sign_in("amy"), await desktop.sign_in("bob")
    mine = (await desktop.http.get("/v1/quality/mine", headers=amy)).json()
    assert [(e["evaluation_id"], e["score"], e["status"]) for e in mine["evaluations"]] == [
        ("ev-1", 75.0, "submitted")
    ]

    url = "/v1/quality/evaluations/ev-1"
    assert (await desktop.http.post(f"{url}/acknowledge", headers=bob, json={})).status_code == 404
    no_reason = await desktop.http.post(f"{url}/dispute", headers=amy, json={})
    assert no_reason.status_code == 422
    disputed = await desktop.http.post(
        f"{url}/dispute", headers=amy, json={"comment": "I did greet them"}
    )
    assert disputed.status_code == 202
    [answer] = [
        e for e in await desktop.service.outbox() if e["event_type"] == "evaluation.answered"
    ]
    assert answer["payload"] == {
        "evaluation_id": "ev-1",
        "agent_id": "amy",
        "answer": "disputed",
        "comment": "I did greet them",
    }

    await desktop.deliver(_evaluation("disputed"), "ev-1")  # recording's answer
    await desktop.deliver(
        _evaluation("submitted"), "ev-1", occurred_at=published
    )  # the first copy, redelivered late
    mine = (await desktop.http.get("/v1/quality/mine", headers=amy)).json()
    assert mine["evaluations"][0]["status"] == "disputed"
    again = await desktop.http.post(f"{url}/acknowledge", headers=amy, json={})
    assert again.status_code == 409


async def test_feedback_reaches_the_team_in_its_tenant_and_coaching_its_agent(
    desktop: Desktop,
) -> None:
    await desktop.deliver(
        FeedbackPosted(feedback_id="f-1", author="agent tl", team="red", text="Great week, red"),
        "f-1",
    )
    await desktop.deliver(
        FeedbackPosted(feedback_id="f-2", author="agent tl", agent_id="cat", text="Nice save"),
        "f-2",
    )
    assert await desktop.told("amy") == await desktop.told("bob") == ["feedback"]
    assert await desktop.told("cat") == ["feedback"] and await desktop.told("gus") == []
    await desktop.deliver(
        CoachingPlanned(
            coaching_id="co-1",
            agent_id="cat",
            coach="agent tl",
            topic="Wrap-ups",
            actions=[CoachingAction(text="Pick an outcome")],
        ),
        "co-1",
    )
    cat = (await desktop.http.get("/v1/quality/mine", headers=await desktop.sign_in("cat"))).json()
    assert [f["text"] for f in cat["feedback"]] == ["Nice save"]
    assert [c["topic"] for c in cat["coaching"]] == ["Wrap-ups"]
    amy = (await desktop.http.get("/v1/quality/mine", headers=await desktop.sign_in("amy"))).json()
    assert [f["text"] for f in amy["feedback"]] == ["Great week, red"] and amy["coaching"] == []


async def test_recording_s_pages_need_the_gateway_credential_and_a_tenant_of_theirs(
    desktop: Desktop,
) -> None:
    amy = await desktop.sign_in("amy")
    missing = await desktop.http.get("/v1/quality/forms", headers=amy)
    assert missing.status_code == 503 and "switchboard seed" in missing.json()["detail"]
    foreign = await desktop.http.get("/v1/quality/forms", headers=amy, params={"tenant": "globex"})
    assert foreign.status_code == 404
    assert (await desktop.http.get("/v1/quality/forms")).status_code == 401
    escape = await desktop.http.get("/v1/quality/%2e%2e/kpis", headers=amy)
    assert escape.status_code == 404, "only recording's quality API is asked"
