"""Dispatch on the real broker with a controllable clock and technicians of the test's own: a
contact's job request despatched automatically, confirmed and completed, all recorded; a
confirmation timeout re-despatched; an emergency that pre-empts and re-deploys; a broadcast that
waits for approval, then tracks three responses and one chase."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration import loopback
from tests.integration.desk import AgentAtDesk
from tests.integration.field import (
    BONDI,
    CBD,
    NEWCASTLE,
    PARRAMATTA,
    SYDNEY,
    Dispatcher,
)
from tests.integration.harness import RunningCentre, until


@pytest.fixture(scope="module")
def field(clocked: RunningCentre) -> tuple[RunningCentre, Path]:
    return clocked, clocked.clock("dispatch")


def _actions(job: dict[str, Any]) -> list[str]:
    return [d["action"] for d in job["deployments"]]


def test_field_jobs_from_request_to_completion_timeout_and_pre_emption(
    field: tuple[RunningCentre, Path],
) -> None:
    centre, clock_file = field
    desk = Dispatcher(centre, clock_file)

    # A contact asks for a technician; the agent requests the job from the desktop.
    contact_id = centre.post_email(centre.email(subject="My meter is sparking")).json()[
        "contact_id"
    ]
    alice = AgentAtDesk(centre, "alice")
    alice.take(contact_id)
    job_id = alice.post(f"/v1/contacts/{contact_id}/jobs", desk.details(CBD))["job_id"]
    job = desk.wait(job_id, "automatic despatch", lambda j: j["status"] == "despatched")
    assert job["technician_id"] == "cbd" and job["contact_id"] == contact_id
    assert job["deployments"][-1]["actor"] == "automatic"
    assert "cbd: 0 min away" in job["deployments"][-1]["reason"]
    [sheet] = job["sent"]
    assert sheet["medium"] == "sms" and "Dog in the yard" in sheet["text"]
    assert "tok_visa_4f9a2c" in sheet["text"]
    dropped = centre.settings.var_dir / "field-outbox" / "sms" / f"{sheet['sent_id']}.json"
    until("the job sheet delivered", lambda: dropped.exists())
    assert json.loads(dropped.read_text())["text"] == sheet["text"], "sent exactly as recorded"
    # ... and the requesting agent hears of it.
    told = alice.told(
        "of the despatch", lambda kind, data: kind == "job" and data["status"] == "despatched"
    )
    assert told["job_id"] == job_id and told["technician_id"] == "cbd"

    for step in ("confirm", "en_route", "on_site", "completed"):
        path = f"/v1/jobs/{job_id}/confirm" if step == "confirm" else f"/v1/jobs/{job_id}/status"
        desk.post(path, {"technician_id": "cbd", "status": step})
    refused = loopback.post(
        centre.url("dispatch", f"/v1/jobs/{job_id}/status"),
        json={"technician_id": "cbd", "status": "en_route"},
        headers=centre.operator,
    )
    assert refused.status_code == 409 and "completed cannot become en_route" in refused.text
    assert _actions(desk.job(job_id)) == [
        "created",
        "despatched",
        "confirmed",
        "en_route",
        "on_site",
        "completed",
    ]

    def recorded() -> list[str] | None:
        timeline = centre.contact(contact_id).json()["timeline"]
        statuses = [e["details"].get("status") for e in timeline if e["event_type"] == "job.status"]
        return statuses if statuses[-1:] == ["completed"] else None

    assert until("recording's timeline", recorded) == [
        "created",
        "despatched",
        "confirmed",
        "en_route",
        "on_site",
        "completed",
    ]

    # Not confirmed in time: re-despatched to the next nearest technician.
    late = desk.post("/v1/jobs", desk.details(BONDI), expect=201)
    assert late["technician_id"] == "bondi" and late["status"] == "despatched"
    desk.advance(11)
    job = desk.wait(late["job_id"], "re-despatch", lambda j: j["technician_id"] == "cbd")
    assert _actions(job) == ["created", "despatched", "timed_out", "despatched"]
    assert "bondi did not confirm within 10 min" in job["deployments"][2]["reason"]
    sink = centre.settings.var_dir / "mail-sink"
    subject = f"Subject: NORMAL job {late['job_id'][:8]}"
    until(
        "bondi's sheet delivered by email",
        lambda: any(subject in m.read_text() for m in sink.glob("*.eml")),
    )
    desk.post(f"/v1/jobs/{late['job_id']}/confirm", {"technician_id": "cbd"})

    # Parramatta holds a routine gas job; an emergency there cannot wait for anyone else.
    routine = desk.post("/v1/jobs", desk.details(PARRAMATTA, skills=("gas",)), expect=201)
    assert routine["technician_id"] == "parra"
    desk.post(f"/v1/jobs/{routine['job_id']}/confirm", {"technician_id": "parra"})
    emergency = desk.post(
        "/v1/jobs", desk.details(PARRAMATTA, priority="emergency", hours=0.5), expect=201
    )
    assert emergency["technician_id"] == "parra" and emergency["status"] == "despatched"
    displaced = desk.job(routine["job_id"])
    assert displaced["status"] == "despatched" and displaced["technician_id"] == "cbd"
    assert _actions(displaced) == ["created", "despatched", "confirmed", "pre-empted", "despatched"]
    pre_empted = displaced["deployments"][3]
    assert emergency["job_id"] in pre_empted["reason"] and pre_empted["technician_id"] == "parra"
    assert any("withdrawn" in s["subject"] and s["to"] == "parra" for s in displaced["sent"])
    customer = until(
        "the customer told, past the DNC gate",
        lambda: next(
            (s for s in desk.job(routine["job_id"])["sent"] if s["to"] == "customer"), None
        ),
    )
    assert customer["medium"] == "sms" and "rescheduled" in customer["text"]
    statuses = [
        e["payload"]
        for e in centre.events("job.status")
        if e["payload"]["job_id"] == routine["job_id"]
    ]
    assert [s["status"] for s in statuses][:4] == ["created", "despatched", "confirmed", "created"]
    assert statuses[3]["displaced_by"] == emergency["job_id"]


def test_a_broadcast_waits_for_approval_then_tracks_responses_and_chases(
    field: tuple[RunningCentre, Path],
) -> None:
    centre, clock_file = field
    desk = Dispatcher(centre, clock_file)
    anonymous = loopback.post(centre.url("dispatch", "/v1/messages"), json={})
    assert anonymous.status_code == 401, "dispatchers sign in"
    dispatcher = centre.sign_in("dispatcher")
    manager = centre.sign_in(
        "ops-manager", password=centre.add_operator("ops-manager", "dispatcher")
    )
    body = {
        "kind": "safety",
        "subject": "Storm warning",
        "author": "ops-manager",  # ignored: the author is whoever is signed in
        "body": "Do not climb poles until the storm has passed.",
        "teams": ["sydney"],
    }
    created = desk.post("/v1/messages", body, expect=201, as_=dispatcher)
    message_id = created["message_id"]
    assert created["status"] == "pending_approval"
    assert created["approval_reason"] == "safety messages need approval"
    assert desk.get(f"/v1/messages/{message_id}")["author"] == "dispatcher"
    assert desk.get(f"/v1/messages/{message_id}")["sent"] == [], "nothing sent before approval"
    approve = f"/v1/messages/{message_id}/approve"
    own = loopback.post(
        centre.url("dispatch", approve), json={"approver": "ops-manager"}, headers=dispatcher
    )
    assert own.status_code == 409 and "author of a message cannot approve it" in own.text
    not_listed = loopback.post(centre.url("dispatch", approve), json={}, headers=centre.operator)
    assert not_listed.status_code == 409 and "not an approver" in not_listed.text
    viewer = loopback.post(
        centre.url("dispatch", approve), json={}, headers=centre.sign_in("viewer")
    )
    assert viewer.status_code == 403 and "dispatcher" in viewer.text
    assert desk.post(approve, {}, as_=manager) == {"message_id": message_id, "status": "sent"}
    assert desk.get(f"/v1/messages/{message_id}")["decided_by"] == "ops-manager"

    for tech, response, eta in (
        ("cbd", "acknowledged", None),
        ("bondi", "eta", 25),
        ("parra", "declined", None),
    ):
        desk.post(
            f"/v1/messages/{message_id}/responses",
            {"technician_id": tech, "response": response, "eta_minutes": eta},
        )
    desk.advance(21)

    def chased() -> dict[str, Any] | None:
        view = desk.get(f"/v1/messages/{message_id}")
        return view if any(r["chases"] for r in view["recipients"]) else None

    view = until("the silent recipient chased", chased)
    by_tech = {r["technician_id"]: r for r in view["recipients"]}
    assert {t: (r["status"], r["eta_minutes"], r["chases"]) for t, r in by_tech.items()} == {
        "cbd": ("acknowledged", None, 0),
        "bondi": ("eta", 25, 0),
        "parra": ("declined", None, 0),
        "newcastle": ("pending", None, 1),
    }
    reminders = [s for s in view["sent"] if s["subject"].startswith("Reminder")]
    assert [s["to"] for s in reminders] == ["newcastle"] and reminders[0]["medium"] == "fax"
    responses = [
        e["payload"]
        for e in centre.events("fieldcomm.response")
        if e["payload"]["message_id"] == message_id
    ]
    assert sorted(r["response"] for r in responses) == ["acknowledged", "chased", "declined", "eta"]
    statuses = [
        e["payload"]["status"]
        for e in centre.events("fieldcomm.status")
        if e["payload"]["message_id"] == message_id
    ]
    assert statuses == ["pending_approval", "approved", "sent"]


def test_eta_requests_manual_despatch_by_phone_and_the_day_plan(
    field: tuple[RunningCentre, Path],
) -> None:
    centre, clock_file = field
    desk = Dispatcher(centre, clock_file)
    desk.morning()  # the earlier jobs' windows have passed: they wait for a dispatcher

    # Offered for ETAs: the earliest of the replies wins once everyone has answered.
    offered = desk.post("/v1/jobs", {**desk.details(BONDI), "request_eta": True}, expect=201)
    assert offered["status"] == "created" and offered["technician_id"] is None
    asked = [a["technician_id"] for a in desk.job(offered["job_id"])["eta_requests"]]
    assert len(asked) == 3 and asked[0] != asked[1]
    for technician_id, eta in zip(asked, (40, 25, None), strict=True):
        desk.post(
            f"/v1/jobs/{offered['job_id']}/eta-replies",
            {"technician_id": technician_id, "eta_minutes": eta},
        )
    job = desk.job(offered["job_id"])
    assert job["status"] == "despatched" and job["technician_id"] == asked[1]
    assert "earliest ETA, 25 min (all replied)" in job["deployments"][-1]["reason"]
    told = [s["to"] for s in job["sent"] if s["subject"].endswith("taken")]
    assert told == [asked[0]], "the one who offered an ETA and was not picked is told"

    # A dispatcher takes a job from its technician and gives it to bondi by phone.
    far = desk.post("/v1/jobs", desk.details(NEWCASTLE), expect=201)
    assert far["technician_id"] == "newcastle"
    moved = desk.post(
        f"/v1/jobs/{far['job_id']}/assign",
        {"technician_id": "bondi", "medium": "phone", "note": "Rang at 10:02"},
    )
    assert moved == {"job_id": far["job_id"], "status": "despatched", "technician_id": "bondi"}
    job = desk.job(far["job_id"])
    assert _actions(job) == ["created", "despatched", "reassigned", "despatched"]
    call = job["sent"][-1]
    assert call["medium"] == "phone" and call["delivered_at"] is not None
    assert "Note from dispatch: Rang at 10:02" in call["text"], "the call's script, as read"
    assert any(s["to"] == "newcastle" and "withdrawn" in s["subject"] for s in job["sent"])

    # The day re-planned: a pinned job stays with its technician; proposing moves nothing.
    desk.post(f"/v1/jobs/{far['job_id']}/pin", {"pinned": True})
    plan = desk.post("/v1/plan", {"time_limit_seconds": 2, "freeze_minutes": 0})
    assert plan["applied"] is False and plan["technicians"] == 5
    assert plan["travel_minutes_before"] >= 0 and plan["travel_minutes_after"] >= 0
    stops = {s["job_id"]: tech for tech, route in plan["routes"].items() for s in route}
    assert stops.get(far["job_id"]) == "bondi"
    assert far["job_id"] not in plan["moved"]
    assert desk.job(offered["job_id"])["technician_id"] == asked[1], "a proposal changes nothing"


def test_a_job_asked_for_before_anyone_starts_is_booked_for_the_first_shift(
    field: tuple[RunningCentre, Path],
) -> None:
    centre, clock_file = field
    desk = Dispatcher(centre, clock_file)
    desk.at_sydney(5, 30)  # nobody does solar work before dawn starts at 07:00
    asked = desk.post("/v1/jobs", desk.details(CBD, skills=("solar",)), expect=201)
    assert asked["technician_id"] == "dawn" and asked["needs_dispatcher"] is False
    job = desk.job(asked["job_id"])
    planned = datetime.fromisoformat(job["planned_start"]).astimezone(SYDNEY)
    assert (planned.hour, planned.minute) == (7, 0)  # from her base at the site: no travel
    assert "booked ahead" in job["deployments"][-1]["reason"]
    [sheet] = [s for s in job["sent"] if s["to"] == "dawn"]
    assert (
        f"Planned start: {datetime.fromisoformat(job['planned_start']).isoformat()}"
        in sheet["text"]
    )
    assert "booked for the start of your next shift" in sheet["text"]
    told = desk.wait(
        asked["job_id"],
        "the customer told the booked time",
        lambda j: any(s["to"] == "customer" for s in j["sent"]),
    )
    [notice] = [s for s in told["sent"] if s["to"] == "customer"]
    assert "a technician will start at 07:00" in notice["text"]
