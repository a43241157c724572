"""Scorecards for three agents equal this test's own arithmetic; evaluations, calibration,
coaching and feedback through the API, with the roles the desktop names and another tenant's
objects hidden."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from switchboard.common import auth
from switchboard.common.centre import AgentConfig, CentreConfig, TenantConfig
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.catalogue import RetentionOffered
from switchboard.common.events.desktop import ContactWrapped
from switchboard.common.events.intake import CallEnded, ContactReceived, Party
from switchboard.common.events.quality import EvaluationAnswered
from switchboard.common.events.records import CustomerCorrected, SurveyResponded
from switchboard.common.events.routing import ContactAssigned
from switchboard.common.events.workforce import AdherenceChanged
from switchboard.common.teams_config import QualityConfig
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.recording import api as record_api
from switchboard.recording import kpis, store
from switchboard.recording.handlers import SERVICE, subscriptions
from switchboard.recording.quality import api, team_api

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


def _as(agent: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {GATEWAY}",
        auth.TENANT_HEADER: tenant,
        auth.AGENT_HEADER: agent,
        auth.ROLES_HEADER: ",".join(("agent", *roles)),
    }


ANALYST = _as("qa1", "quality_analyst")
ANALYST_2 = _as("qa2", "quality_analyst")
LEADER = _as("tl", "team_leader")


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


def _contacts() -> list[Contact]:
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


@pytest.fixture
async def quality(tmp_path: Path) -> AsyncIterator[Quality]:
    async def prepare(runtime: Any) -> None:
        async with runtime.db.session() as session:
            await kpis.apply_centre(session, CENTRE)
            await auth.grant(session, token=OPERATOR, tenant_id="acme", label="ops")
            await auth.grant_gateway(session, token=GATEWAY, label="desktop")

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        for contact in _contacts():
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


async def test_scorecards_equal_the_arithmetic_for_three_agents(quality: Quality) -> None:
    ops = {"Authorization": f"Bearer {OPERATOR}"}
    amy = await quality.ok("GET", "/v1/quality/scorecards/agents/amy", ops, params=PERIOD)
    bob = await quality.ok("GET", "/v1/quality/scorecards/agents/bob", ops, params=PERIOD)
    cat = await quality.ok("GET", "/v1/quality/scorecards/agents/cat", ops, params=PERIOD)
    a, b, c = amy["figures"], bob["figures"], cat["figures"]
    # amy: c1 (call, 250 s, 60 s after the call), c2 (sale, 300 s), c3 (escalated after 120 s
    # with no notes; bob took it on). CSAT/NPS: c1 and c2 (c3's belongs to bob, who finished it).
    assert (a["handled"], a["calls_handled"]) == (3, 1)
    assert a["average_handle_time"] == round((250 + 300 + 120) / 3, 4)
    assert a["after_call_work"] == 60
    assert a["first_contact_resolution"] == round(1 / 3, 4)
    assert a["transfer_rate"] == a["escalation_rate"] == round(1 / 3, 4)
    assert (a["sales"], a["conversion_rate"]) == (1, 1.0)
    assert (a["csat"], a["nps"]) == (4.5, 100.0)
    assert (a["wrapups_incomplete"], a["records_corrected"]) == (1, 0)
    assert a["data_entry_accuracy"] == round(1 - 1 / 3, 4)
    assert (a["rostered_hours"], a["contacts_per_hour"], a["calls_per_hour"]) == (8, 0.375, 0.125)
    assert a["schedule_adherence"] == 0.875
    assert a["retention_save_rate"] == 1.0  # the offer amy made was accepted
    # bob: c3 (300 s, resolved), c4 (call, 130 s, no sale, 30 s after the call).
    assert (b["handled"], b["average_handle_time"], b["after_call_work"]) == (2, 215, 30)
    assert (b["first_contact_resolution"], b["transfer_rate"]) == (0.5, 0.0)
    assert (b["sales"], b["conversion_rate"]) == (0, 0.0)
    assert (b["csat"], b["nps"]) == (2.5, -50.0)
    assert b["contacts_per_hour"] is None and b["data_entry_accuracy"] == 1.0
    assert b["retention_save_rate"] is None  # bob made no offer
    # cat: c5 (no outcome; its customer's name corrected after), c6 (resolved, but c7 came back
    # in its conversation), c8 (resolved).
    assert (c["handled"], c["average_handle_time"]) == (3, round((600 + 60 + 100) / 3, 4))
    assert c["first_contact_resolution"] == round(1 / 3, 4)
    assert (c["wrapups_incomplete"], c["records_corrected"]) == (1, 1)
    assert c["data_entry_accuracy"] == round(1 - 2 / 3, 4)
    assert c["csat"] is None and c["after_call_work"] is None
    # Targets: red's own AHT target over the tenant's; the tenant's FCR target.
    assert amy["targets"]["average_handle_time"] == {
        "target": 200,
        "value": a["average_handle_time"],
        "better": "lower",
        "gap": round(a["average_handle_time"] - 200, 4),
        "met": False,
    }
    assert cat["targets"]["average_handle_time"]["target"] == 240
    assert bob["targets"]["first_contact_resolution"]["met"] is True

    red = await quality.ok(
        "GET", "/v1/quality/scorecards/teams/red", LEADER, params={**PERIOD, "trend": "true"}
    )
    assert red["figures"]["handled"] == 5
    assert red["figures"]["average_handle_time"] == (250 + 300 + 120 + 300 + 130) / 5
    assert red["figures"]["transfer_rate"] == 0.2
    assert [x["agent_id"] for x in red["agents"]] == ["amy", "bob"]
    assert [w["figures"]["handled"] for w in red["trend"]] == [5]


async def test_agents_see_only_their_own_and_other_tenants_are_hidden(quality: Quality) -> None:
    own = await quality.http.get(
        "/v1/quality/scorecards/agents/amy", headers=_as("amy"), params=PERIOD
    )
    other = await quality.http.get(
        "/v1/quality/scorecards/agents/bob", headers=_as("amy"), params=PERIOD
    )
    assert (own.status_code, other.status_code) == (200, 403)
    foreign = await quality.http.get(
        "/v1/quality/scorecards/agents/gus", headers=LEADER, params=PERIOD
    )
    assert foreign.status_code == 404
    c9 = await quality.http.post(
        "/v1/quality/evaluations",
        headers=ANALYST,
        json={
            "contact_id": "c9",
            "agent_id": "gus",
            "form_id": "calls",
            "answers": {"greeting": "yes", "identity": "yes", "listening": "4"},
        },
    )
    assert c9.status_code == 404
    forged = await quality.http.get(
        "/v1/quality/forms",
        headers={
            "Authorization": f"Bearer {GATEWAY}",
            auth.TENANT_HEADER: "acme",
            auth.AGENT_HEADER: "amy",
            auth.ROLES_HEADER: "administrator",
        },
    )
    assert forged.status_code == 401
    bad = await quality.http.get("/v1/quality/forms", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    as_operator = await quality.http.get(
        "/v1/kpis", params=PERIOD, headers={"Authorization": f"Bearer {GATEWAY}"}
    )
    assert as_operator.status_code == 401, "the gateway's token acts only for people it names"
    feedback = await quality.http.post(
        "/v1/quality/feedback", headers=ANALYST, json={"team": "red", "text": "Nice week"}
    )
    assert feedback.status_code == 403


async def test_an_evaluation_from_sampling_to_the_agent_s_answer(quality: Quality) -> None:
    long_ones = await quality.ok(
        "POST", "/v1/quality/samples", ANALYST, json={**PERIOD, "filter": "low_csat", "size": 10}
    )
    assert {(s["contact_id"], s["agent_id"]) for s in long_ones} == {("c4", "bob")}
    picked = await quality.ok(
        "POST", "/v1/quality/samples", ANALYST, json={**PERIOD, "agent_id": "amy", "size": 10}
    )
    assert {s["contact_id"] for s in picked} == {"c1", "c2", "c3"}
    contact = await quality.ok("GET", "/v1/quality/contacts/c1", ANALYST)
    assert contact["customer"]["name"] == "Customer 1"
    assert next(e["event_type"] for e in contact["timeline"]) == "contact.received"

    scored = await quality.ok(
        "POST",
        "/v1/quality/evaluations",
        ANALYST,
        json={
            "contact_id": "c1",
            "agent_id": "amy",
            "form_id": "calls",
            "answers": {"greeting": "yes", "identity": "yes", "listening": "2"},
            "comment": "Listen for the second question",
        },
    )
    assert scored["score"] == round(100 * (1 + 3 + 2) / 8, 2) and scored["status"] == "submitted"
    [published] = [
        e for e in await quality.service.outbox() if e["event_type"] == "quality.evaluation"
    ]
    assert published["payload"]["agent_id"] == "amy" and published["payload"]["score"] == 75.0
    again = await quality.ok(
        "POST", "/v1/quality/samples", ANALYST, json={**PERIOD, "agent_id": "amy", "size": 10}
    )
    assert {s["contact_id"] for s in again} == {"c2", "c3"}, "an evaluated contact is left out"

    answered = EvaluationAnswered(
        evaluation_id=scored["evaluation_id"],
        agent_id="amy",
        answer="disputed",
        comment="I did check identity",
    )
    await quality.service.deliver(
        Envelope.first(answered, tenant_id="acme", aggregate_id=scored["evaluation_id"])
    )
    mine = await quality.ok("GET", f"/v1/quality/evaluations/{scored['evaluation_id']}", _as("amy"))
    assert (mine["status"], mine["agent_comment"]) == ("disputed", "I did check identity")
    assert mine["form"]["id"] == "calls" and mine["contact"]["contact_id"] == "c1"
    hidden = await quality.http.get(
        f"/v1/quality/evaluations/{scored['evaluation_id']}", headers=_as("bob")
    )
    assert hidden.status_code == 403
    card = await quality.ok(
        "GET",
        "/v1/quality/scorecards/agents/amy",
        _as("amy"),
        params={"from": T0.isoformat(), "to": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    )
    assert card["figures"]["quality_score"] == 75.0 and card["figures"]["evaluations"] == 1

    failed = await quality.ok(
        "POST",
        "/v1/quality/evaluations",
        ANALYST,
        json={
            "contact_id": "c2",
            "agent_id": "amy",
            "form_id": "calls",
            "answers": {"greeting": "yes", "identity": "no", "listening": "4"},
        },
    )
    assert (failed["score"], failed["auto_failed"]) == (0.0, True)
    refused = await quality.http.post(
        "/v1/quality/evaluations",
        headers=ANALYST,
        json={
            "contact_id": "c2",
            "agent_id": "amy",
            "form_id": "calls",
            "answers": {"greeting": "yes", "identity": "yes", "listening": "9"},
        },
    )
    assert refused.status_code == 422 and "0-4" in refused.json()["detail"]


async def test_calibration_spread_and_agreed_score(quality: Quality) -> None:
    opened = await quality.ok(
        "POST",
        "/v1/quality/calibrations",
        ANALYST,
        json={
            "contact_id": "c4",
            "agent_id": "bob",
            "form_id": "calls",
            "evaluators": ["agent qa1", "agent qa2"],
        },
    )
    url = f"/v1/quality/calibrations/{opened['calibration_id']}"
    for who, listening in ((ANALYST, "4"), (ANALYST_2, "1")):
        await quality.ok(
            "POST",
            "/v1/quality/evaluations",
            who,
            json={
                "contact_id": "c4",
                "agent_id": "bob",
                "form_id": "calls",
                "calibration_id": opened["calibration_id"],
                "answers": {"greeting": "yes", "identity": "yes", "listening": listening},
            },
        )
    view = await quality.ok("GET", url, LEADER)
    spread = {q["question_id"]: q for q in view["questions"]}
    assert spread["listening"]["spread"] == 0.75 and spread["greeting"]["spread"] == 0.0
    assert view["score_spread"] == 100.0 * (1 + 3 + 4) / 8 - 100.0 * (1 + 3 + 1) / 8
    assert view["waiting_for"] == []
    [listed] = await quality.ok("GET", "/v1/quality/calibrations", ANALYST_2)
    assert listed["calibration_id"] == opened["calibration_id"] and listed["status"] == "open"
    assert not [
        e for e in await quality.service.outbox() if e["event_type"] == "quality.evaluation"
    ]
    agreed = await quality.ok(
        "POST",
        f"{url}/agree",
        ANALYST,
        json={"answers": {"greeting": "yes", "identity": "yes", "listening": "3"}},
    )
    assert agreed["score"] == round(100 * (1 + 3 + 3) / 8, 2)
    assert (
        await quality.http.post(
            f"{url}/agree",
            headers=ANALYST,
            json={"answers": {"greeting": "yes", "identity": "yes", "listening": "3"}},
        )
    ).status_code == 409
    listed = await quality.ok("GET", "/v1/quality/evaluations", LEADER, params={"agent_id": "bob"})
    assert [e["evaluation_id"] for e in listed] == [agreed["evaluation_id"]]


async def test_coaching_and_feedback_reach_the_agent(quality: Quality) -> None:
    follow_up = (T0 + timedelta(days=7)).isoformat()
    plan = await quality.ok(
        "POST",
        "/v1/quality/coaching",
        LEADER,
        json={
            "agent_id": "cat",
            "topic": "Wrap-ups",
            "scorecard_gaps": ["data_entry_accuracy"],
            "actions": [{"text": "Always choose an outcome"}],
            "follow_up_at": follow_up,
        },
    )
    done = await quality.ok(
        "PATCH",
        f"/v1/quality/coaching/{plan['coaching_id']}",
        LEADER,
        json={"actions": [{"text": "Always choose an outcome", "done": True}], "status": "done"},
    )
    assert done["status"] == "done" and done["actions"][0]["done"] is True
    await quality.ok(
        "POST", "/v1/quality/feedback", LEADER, json={"team": "red", "text": "Well done"}
    )
    assert (
        await quality.http.post(
            "/v1/quality/feedback", headers=LEADER, json={"team": "green", "text": "?"}
        )
    ).status_code == 404
    theirs = await quality.ok("GET", "/v1/quality/feedback", _as("amy"), params={"agent_id": "amy"})
    assert [f["text"] for f in theirs] == ["Well done"]
    sent = [e["event_type"] for e in await quality.service.outbox()]
    assert sent.count("quality.coaching") == 2 and sent.count("quality.feedback") == 1
    mine = await quality.ok("GET", "/v1/quality/coaching", _as("cat"), params={"agent_id": "cat"})
    assert mine[0]["overdue"] is False
