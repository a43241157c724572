"""Calls on a whole centre whose telephony platform is a real loopback server
(tests/integration/platform.py): a call bridged to the agent's extension by `call.route` (and one
the platform could not connect, back in line); a callback queued, offered, dialled and tried
again; transfers to a named agent, warm and in conference; and a supervisor's monitor command and
forced state."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.integration import loopback
from tests.integration.browser import chromium
from tests.integration.desk import AgentAtDesk, holder_of, offered_on, timeline_of
from tests.integration.harness import RunningCentre, until
from tests.integration.platform import ChannelPlatform


def _platform(centre: RunningCentre) -> ChannelPlatform:
    assert centre.platform is not None
    return centre.platform


def _call(centre: RunningCentre, call_id: str, event: str, **fields: Any) -> httpx.Response:
    body = {"event": event, "call_id": call_id, "at": datetime.now(UTC).isoformat(), **fields}
    return centre.post_signed(
        "/v1/phone/events",
        json.dumps(body).encode(),
        "application/json",
        system=centre.system("cti"),
    )


def _offered_call(centre: RunningCentre, call_id: str, **fields: Any) -> str:
    answer = _call(
        centre, call_id, "offered", ani="0412 345 678", dnis=centre.phone_number, **fields
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["contact_id"])


def test_a_call_is_bridged_to_the_agents_extension_or_goes_back_in_line(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    platform = _platform(floor)
    call_id = f"call-{time.time_ns()}"
    platform.script(call_id, (409, {"error": "extension busy"}))  # the first bridge fails
    contact_id = _offered_call(floor, call_id)
    first = holder_of(desk, contact_id)
    offer = next(o for o in first.me()["offers"] if o["contact_id"] == contact_id)
    first.post(f"/v1/offers/{offer['offer_id']}/accept")  # (so brief an assignment, unseen)
    not_connected = until(
        "the offer withdrawn as not connected",
        lambda: next(
            (
                e
                for e in floor.events("agent.offer_withdrawn")
                if e["contact_id"] == contact_id and e["payload"]["reason"] == "not_connected"
            ),
            None,
        ),
    )
    assert not_connected["payload"]["agent_id"] == first.name
    second = holder_of({k: v for k, v in desk.items() if v is not first}, contact_id)
    second.take(contact_id)
    routes = platform.commands(call_id, "route", 2)
    extensions = {
        floor.agent_id(k): v for k, v in {"alice": "2001", "bilal": "2002", "chen": "2003"}.items()
    }
    assert [r["body"]["extension"] for r in routes] == [
        extensions[first.name],
        extensions[second.name],
    ]
    assert all(r["system"] == floor.system("cti") for r in routes)
    results = timeline_of(floor, contact_id, "call.command_result", 2)
    assert sorted(r["details"]["outcome"] for r in results) == ["connected", "failed"]
    failed = next(r for r in results if r["details"]["outcome"] == "failed")
    assert failed["details"]["attempts"] == 1 and "409" in failed["details"]["reason"]
    # Calling the customer back is a reply once the gate clears it and the platform dials it.
    reply = second.post(f"/v1/contacts/{contact_id}/reply", {"text": "Calling about the fault"})
    [dial] = platform.commands(f"reply:{reply['outbound_request_id']}", "dial")
    assert dial["body"]["extension"] == extensions[second.name]
    assert dial["body"]["target"] == "+61412345678"
    [replied] = timeline_of(floor, contact_id, "contact.replied")
    assert replied["details"]["channel"] == "phone"
    second.wrap(contact_id, "resolved")


def test_a_callback_keeps_its_place_and_is_dialled_through_the_gate(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    for agent in desk.values():  # nobody free while the caller waits
        agent.post("/v1/state", {"state": "break", "reason": "meeting"})
    platform = _platform(floor)
    call_id = f"call-{time.time_ns()}"
    contact_id = _offered_call(floor, call_id)
    _call(floor, call_id, "callback_requested", callback_number="0412 555 666")
    _call(floor, call_id, "abandoned")
    timeline_of(floor, contact_id, "call.abandoned")
    platform.script(call_id, (200, {"outcome": "no_answer"}))
    desk["bilal"].post("/v1/state", {"state": "available"})
    desk["bilal"].take(contact_id)  # the callback is offered like a call, from its place
    dial = platform.commands(call_id, "dial")
    assert dial[0]["body"]["target"] == "+61412555666"
    assert dial[0]["body"]["extension"] == "2002"
    [retry] = timeline_of(floor, contact_id, "callback.result")
    assert retry["details"]["outcome"] == "retry" and retry["details"]["attempt"] == 1
    assert retry["details"]["next_attempt_at"]
    told = desk["bilal"].told("the callback's result", lambda kind, _data: kind == "callback")
    assert told["outcome"] == "retry"
    cleared = [
        e
        for e in floor.events("outbound.cleared")
        if e["payload"]["request_id"] == f"callback:{contact_id}:1"
    ]
    assert cleared and cleared[0]["payload"]["channel"] == "call"
    desk["bilal"].wrap(contact_id, "unresolved")
    queued = timeline_of(floor, contact_id, "contact.queued", 3)
    assert "tried again" in queued[-1]["details"]["reason"]  # back in line for the next try
    record = floor.contact(contact_id).json()
    assert record["timeline"][0]["event_type"] == "contact.received"


def test_transfers_to_a_named_agent_warm_and_in_conference(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    platform = _platform(floor)
    call_id = f"call-{time.time_ns()}"
    desk["bilal"].post("/v1/state", {"state": "break", "reason": "training"})
    desk["chen"].post("/v1/state", {"state": "break", "reason": "training"})
    contact_id = _offered_call(floor, call_id)
    alice = desk["alice"]
    alice.take(contact_id)
    desk["bilal"].post("/v1/state", {"state": "available"})
    alice.post(
        f"/v1/contacts/{contact_id}/transfer",
        {"to_agent_id": floor.agent_id("bilal"), "mode": "blind", "reason": "meter faults"},
    )
    alice.wrap(contact_id, "escalated")
    offer = offered_on(desk["bilal"], "phone")
    assert offer["contact_id"] == contact_id
    desk["bilal"].take(contact_id)

    desk["chen"].post("/v1/state", {"state": "available"})
    desk["bilal"].post(
        f"/v1/contacts/{contact_id}/transfer",
        {"to_agent_id": floor.agent_id("chen"), "mode": "warm"},
    )
    consult = platform.commands(call_id, "consult")
    assert (consult[0]["body"]["extension"], consult[0]["body"]["target"]) == ("2002", "2003")
    desk["chen"].take(contact_id)
    # bilal stays on the warm transfer until he wraps up
    until(
        "bilal still holds it",
        lambda: any(c["contact_id"] == contact_id for c in desk["bilal"].me()["contacts"]) or None,
    )
    desk["bilal"].wrap(contact_id, "escalated")

    # chen brings alice into the call: both are on it until each wraps up.
    desk["chen"].post(
        f"/v1/contacts/{contact_id}/transfer",
        {"to_agent_id": floor.agent_id("alice"), "mode": "conference"},
    )
    alice.take(contact_id)
    until(
        "chen still on the call",
        lambda: any(c["contact_id"] == contact_id for c in desk["chen"].me()["contacts"]) or None,
    )
    routes = platform.commands(call_id, "route", 4)
    assert [(r["body"]["extension"], r["body"]["mode"]) for r in routes] == [
        ("2001", "offer"),
        ("2002", "transfer"),
        ("2003", "warm_transfer"),
        ("2001", "conference"),
    ]
    transfers = timeline_of(floor, contact_id, "contact.transfer_requested", 3)
    assert [t["details"]["mode"] for t in transfers] == ["blind", "warm", "conference"]
    desk["chen"].wrap(contact_id, "resolved")
    alice.wrap(contact_id, "resolved")
    contact = floor.wait_contact(contact_id, status="wrapped")
    assert contact["agent_id"] == floor.agent_id("alice") and contact["assignments"] == 4


def test_a_supervisor_monitors_a_call_and_sets_an_agents_state(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    platform = _platform(floor)
    desk["bilal"].post("/v1/state", {"state": "break", "reason": "lunch"})
    desk["chen"].post("/v1/state", {"state": "break", "reason": "coaching"})
    call_id = f"call-{time.time_ns()}"
    contact_id = _offered_call(floor, call_id)
    alice, chen = desk["alice"], desk["chen"]
    alice.take(contact_id)
    refused = alice.post(f"/v1/supervisor/calls/{contact_id}/monitor", expect=403)
    assert "supervisors" in refused["detail"]
    # In the browser: the team leader's wallboard offers to monitor alice's call.
    if floor.backend == "sqlite":
        with sync_playwright() as playwright:
            browser = chromium(playwright)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.goto(floor.url("desktop", "/"))
                page.get_by_label("Username").fill(floor.agent_id("chen"))
                page.get_by_label("Password").fill(
                    floor.credentials["agents"][floor.agent_id("chen")]["password"]
                )
                page.get_by_role("button", name="Sign in").click()
                barge = page.get_by_role("button", name="Barge Alice Nguyen")
                expect(barge).to_be_visible(timeout=15_000)
                barge.click()
                platform.commands(call_id, "barge")
            finally:
                browser.close()
    for action in ("monitor", "whisper"):
        chen.post(f"/v1/supervisor/calls/{contact_id}/{action}")
        heard = platform.commands(call_id, action)
        assert (heard[0]["body"]["extension"], heard[0]["body"]["target"]) == ("2003", "2001")
    chen.post(
        f"/v1/supervisor/agents/{alice.name}/state", {"state": "break", "reason": "a quick word"}
    )
    state = alice.told(
        "the forced state",
        lambda kind, data: kind == "state" and data.get("source") == "supervisor",
    )
    assert state["state"] == "break" and f"set by {chen.name}" in state["reason"]
    audit = loopback.get(
        chen.url("/v1/supervisor/actions"), headers=chen.headers, timeout=10
    ).json()
    actions = [(a["action"], a["agent_id"]) for a in audit["actions"]]
    assert {("monitor", alice.name), ("whisper", alice.name), ("state:break", alice.name)} <= set(
        actions
    )
    if floor.backend == "sqlite":
        assert ("barge", alice.name) in actions
    alice.wrap(contact_id, "resolved")
