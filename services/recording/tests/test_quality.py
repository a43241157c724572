"""Scorecards for three agents equal this test's own arithmetic; evaluations, calibration,
coaching and feedback through the API, with the roles the desktop names and another tenant's
objects hidden."""

from __future__ import annotations

from services.recording.tests.quality_under_test import (
    ANALYST,
    GATEWAY,
    LEADER,
    OPERATOR,
    PERIOD,
    Quality,
    as_person,
)
from switchboard.common import auth


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
        "/v1/quality/scorecards/agents/amy", headers=as_person("amy"), params=PERIOD
    )
    other = await quality.http.get(
        "/v1/quality/scorecards/agents/bob", headers=as_person("amy"), params=PERIOD
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
