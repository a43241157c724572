"""Evaluations through the API, with the roles the desktop names: from sampling to the agent's
answer, calibration's spread and agreed score, coaching and feedback reaching the agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.recording.tests.quality_under_test import (
    ANALYST,
    ANALYST_2,
    LEADER,
    PERIOD,
    T0,
    Quality,
    as_person,
)
from switchboard.common.envelope import Envelope
from switchboard.common.events.quality import EvaluationAnswered


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
    mine = await quality.ok(
        "GET", f"/v1/quality/evaluations/{scored['evaluation_id']}", as_person("amy")
    )
    assert (mine["status"], mine["agent_comment"]) == ("disputed", "I did check identity")
    assert mine["form"]["id"] == "calls" and mine["contact"]["contact_id"] == "c1"
    hidden = await quality.http.get(
        f"/v1/quality/evaluations/{scored['evaluation_id']}", headers=as_person("bob")
    )
    assert hidden.status_code == 403
    card = await quality.ok(
        "GET",
        "/v1/quality/scorecards/agents/amy",
        as_person("amy"),
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
    theirs = await quality.ok(
        "GET", "/v1/quality/feedback", as_person("amy"), params={"agent_id": "amy"}
    )
    assert [f["text"] for f in theirs] == ["Well done"]
    sent = [e["event_type"] for e in await quality.service.outbox()]
    assert sent.count("quality.coaching") == 2 and sent.count("quality.feedback") == 1
    mine = await quality.ok(
        "GET", "/v1/quality/coaching", as_person("cat"), params={"agent_id": "cat"}
    )
    assert mine[0]["overdue"] is False
