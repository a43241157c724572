"""More ways in and out, on a whole centre whose telephony platform and SMS gateway are a real
loopback server (tests/integration/platform.py): a web chat from the widget in a real browser to
the agent's reply and the transcript; an SMS in and the reply out through the Do Not Call gate; a
walk-in; a call bridged to the agent's extension by `call.route` (and one the platform could not
connect, back in line); a callback queued, offered, dialled and tried again; transfers to a named
agent, warm and in conference; and a supervisor's monitor command and forced state."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright
from websockets.sync.client import connect

from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until
from tests.integration.platform import ChannelPlatform

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def desk(floor: RunningCentre) -> Iterator[dict[str, AgentAtDesk]]:
    """alice, bilal and chen (the team leader) signed in and available; offline afterwards, so
    the next test starts with nobody taking contacts."""
    agents = {name: AgentAtDesk(floor, name) for name in ("alice", "bilal", "chen")}
    yield agents
    for agent in agents.values():
        agent.post("/v1/state", {"state": "offline"})


def _chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, as the tests run it (Playwright never downloads a browser)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def _platform(centre: RunningCentre) -> ChannelPlatform:
    assert centre.platform is not None
    return centre.platform


def _offered(agent: AgentAtDesk, channel: str) -> dict[str, Any]:
    return until(
        f"{agent.name}'s {channel} offer",
        lambda: next((o for o in agent.me()["offers"] if o["channel"] == channel), None),
    )


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


def _timeline(centre: RunningCentre, contact_id: str, wanted: str, count: int = 1) -> list[Any]:
    def found() -> list[Any] | None:
        answer = centre.contact(contact_id)
        if answer.status_code != 200:
            return None
        entries = [e for e in answer.json()["timeline"] if e["event_type"] == wanted]
        return entries if len(entries) >= count else None

    return until(f"{count} {wanted} for {contact_id}", found)


def _holder(agents: dict[str, AgentAtDesk], contact_id: str) -> AgentAtDesk:
    """Whoever was offered the contact (routing chooses among the available)."""

    def offered() -> AgentAtDesk | None:
        for agent in agents.values():
            if any(o["contact_id"] == contact_id for o in agent.me()["offers"]):
                return agent
        return None

    return until(f"an offer of {contact_id}", offered)


# -- web chat ---------------------------------------------------------------------------------------
def test_a_chat_from_the_widget_to_the_agents_reply_and_the_transcript(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    if floor.backend != "sqlite":
        pytest.skip(
            "the browser's part does not depend on the database; the chat's limits run on both"
        )
    with sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(floor.url("intake", f"/chat/?entry={floor.tenant}-web"))
            widget = page.locator("#switchboard-chat")
            widget.get_by_label("Message").fill("Hello, my smart meter is blinking red")
            widget.get_by_role("button", name="Send").click()
            expect(widget.locator("li.customer[data-seq='1']")).to_be_visible(timeout=15_000)

            holder = until(
                "the chat's offer",
                lambda: next(
                    (a for a in desk.values() for o in a.me()["offers"] if o["channel"] == "chat"),
                    None,
                ),
            )
            contact_id = _offered(holder, "chat")["contact_id"]
            holder.take(contact_id)
            holder.post(f"/v1/contacts/{contact_id}/typing")
            expect(widget.locator(".status")).to_have_text("An agent is typing…", timeout=15_000)
            holder.post(f"/v1/contacts/{contact_id}/reply", {"text": "Hi! Let me look at it."})
            expect(widget.locator("li.agent")).to_have_text(
                "Hi! Let me look at it.", timeout=15_000
            )
            delivered = holder.told(
                "the reply delivered",
                lambda kind, data: kind == "chat_activity" and data.get("kind") == "delivered",
            )
            assert delivered["contact_id"] == contact_id

            # The customer reloads the page: the same chat comes back, every line once.
            page.reload()
            widget = page.locator("#switchboard-chat")
            expect(widget.locator("li")).to_have_count(2, timeout=15_000)
            widget.get_by_label("Message").fill("It says E4")
            widget.get_by_role("button", name="Send").click()
            expect(widget.locator("li.customer[data-seq='3']")).to_be_visible(timeout=15_000)
            said = holder.told(
                "the customer's next line",
                lambda kind, data: kind == "chat" and data.get("text") == "It says E4",
            )
            assert said["from"] == "customer"

            # The agent closes the chat: the window says so, and a new message is a new chat.
            holder.wrap(contact_id, "resolved")
            expect(widget.locator(".status")).to_contain_text("closed this chat", timeout=15_000)
            widget.get_by_label("Message").fill("Sorry, one more thing")
            widget.get_by_role("button", name="Send").click()
            expect(widget.locator("li.customer[data-seq='1']")).to_be_visible(timeout=15_000)
            again = until(
                "the new chat's offer",
                lambda: next(
                    (
                        o["contact_id"]
                        for a in desk.values()
                        for o in a.me()["offers"]
                        if o["channel"] == "chat"
                    ),
                    None,
                ),
            )
            assert again != contact_id
            taker = _holder(desk, again)
            taker.take(again)
            taker.wrap(again, "resolved")
        finally:
            browser.close()
    record = _timeline(floor, contact_id, "contact.wrapped")
    contact = floor.contact(contact_id).json()
    assert contact["channel"] == "chat" and record
    assert [(line["from"], line["text"]) for line in contact["transcript"]] == [
        ("customer", "Hello, my smart meter is blinking red"),
        ("agent", "Hi! Let me look at it."),
        ("customer", "It says E4"),
    ]


def test_a_chat_refuses_what_it_cannot_take(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    url = floor.url("intake", "/v1/chat/ws").replace("http://", "ws://")
    with connect(url) as socket:
        socket.send(json.dumps({"type": "hello", "entry": "nowhere-web"}))
        refused = json.loads(socket.recv(timeout=10))
        assert refused["type"] == "error" and "nowhere-web" in refused["reason"]
    with connect(url) as socket:
        socket.send(json.dumps({"type": "hello", "session": "forged", "secret": "guess"}))
        assert json.loads(socket.recv(timeout=10))["reason"] == "no such chat, or not yours"
    with connect(url) as socket:
        socket.send(json.dumps({"type": "hello", "entry": f"{floor.tenant}-web", "name": "Robin"}))
        welcome = json.loads(socket.recv(timeout=10))
        assert welcome["type"] == "welcome" and welcome["secret"]
        socket.send("not json")
        assert json.loads(socket.recv(timeout=10)) == {
            "type": "error",
            "reason": "a frame must be JSON",
        }
        socket.send(json.dumps({"type": "message", "id": "m0", "text": "x" * 2001}))
        assert "at most 2000" in json.loads(socket.recv(timeout=10))["reason"]
        socket.send(json.dumps({"type": "message", "id": "m1", "text": "y" * 20_000}))
        assert "16384 bytes" in json.loads(socket.recv(timeout=10))["reason"]
        answers: list[dict[str, Any]] = []
        for n in range(8):  # five at once, then one a second
            socket.send(json.dumps({"type": "message", "id": f"b{n}", "text": f"quick {n}"}))
        while len(answers) < 8:
            frame = json.loads(socket.recv(timeout=10))
            if frame["type"] in ("ack", "error"):
                answers.append(frame)
        acks = [a for a in answers if a["type"] == "ack"]
        assert 5 <= len(acks) < 8  # the burst, and perhaps one more as a token came back
        assert any("too many messages" in a.get("reason", "") for a in answers)
        socket.send(json.dumps({"type": "message", "id": "b0", "text": "quick 0"}))
        again = json.loads(socket.recv(timeout=10))
        while again["type"] != "ack":
            again = json.loads(socket.recv(timeout=10))
        assert again == {"type": "ack", "id": "b0", "seq": answers[0]["seq"]}  # sent again: once
    contact_id = floor.contact_for_external_id(welcome["session"])
    holder = _holder(desk, contact_id)
    holder.take(contact_id)
    holder.wrap(contact_id, "unresolved")
    transcript = until(
        "the five lines in the transcript",
        lambda: (
            t if len(t := floor.contact(contact_id).json().get("transcript", [])) == 5 else None
        ),
    )
    assert [line["text"] for line in transcript] == [f"quick {n}" for n in range(len(acks))]


# -- SMS --------------------------------------------------------------------------------------------
def test_an_sms_in_and_the_reply_out_through_the_gate(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    sender = f"+61412{time.time_ns() % 1_000_000:06d}"

    def text(message_id: str, words: str) -> str:
        body = {"message_id": message_id, "from": sender, "to": floor.sms_number, "text": words}
        answer = floor.post_signed(
            "/v1/sms", json.dumps(body).encode(), "application/json", system=floor.system("sms")
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["contact_id"])

    first = text(f"sms-{time.time_ns()}", "Is my power back on yet?")
    holder = _holder(desk, first)
    holder.take(first)
    reply = holder.post(f"/v1/contacts/{first}/reply", {"text": "Yes, since 2pm. Sorry!"})
    request_id = reply["outbound_request_id"]
    sent = until(
        "the SMS at the gateway",
        lambda: (
            _platform(floor).requests(lambda body: body.get("message_id") == request_id) or None
        ),
    )
    assert sent[0]["body"] == {
        "message_id": request_id,
        "from": floor.sms_number,
        "channel": "sms",
        "to": sender,
        "text": "Yes, since 2pm. Sorry!",
        "contact_id": first,
    }
    assert sent[0]["system"] == floor.system("sms") and sent[0]["idempotency_key"] == request_id
    cleared = [
        e for e in floor.events("outbound.cleared") if e["payload"]["request_id"] == request_id
    ]
    assert cleared and cleared[0]["payload"]["channel"] == "sms"
    [replied] = _timeline(floor, first, "contact.replied")
    assert replied["details"]["channel"] == "sms"
    holder.wrap(first, "resolved")

    second = text(f"sms-{time.time_ns()}", "Thanks!")
    _timeline(floor, second, "contact.received")
    conversations = {floor.contact(c).json()["conversation_id"] for c in (first, second)}
    assert len(conversations) == 1  # threaded by number
    holder = _holder(desk, second)
    holder.take(second)
    holder.wrap(second, "resolved")
    bad = floor.post_signed(
        "/v1/sms",
        json.dumps({"message_id": "x", "to": floor.sms_number}).encode(),
        "application/json",
        system=floor.system("sms"),
    )
    assert bad.status_code == 422 and "from" in bad.json()["detail"]
    wrong_system = floor.post_signed(
        "/v1/sms", b"{}", "application/json", system=floor.system("cti")
    )
    assert wrong_system.status_code == 403


# -- walk-ins ---------------------------------------------------------------------------------------
def test_a_walk_in_is_recorded_timed_and_counted(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    alice = desk["alice"]
    # Logged afterwards, for a customer who came in at a minute of their own three days ago:
    # the KPIs of that minute are this walk-in's alone.
    came = (datetime.now(UTC) - timedelta(days=3)).replace(second=7, microsecond=0)
    logged = alice.post(
        "/v1/walk-ins",
        {
            "subject": "Paying a bill in cash",
            "customer": {"name": "Pat Lee", "phone": "0412 000 111"},
            "text": "Pays the March bill",
            "started_at": came.isoformat(),
        },
    )
    contact_id = floor.contact_for_external_id(logged["walk_in_id"])
    until(
        "the walk-in on alice's desk",
        lambda: any(c["contact_id"] == contact_id for c in alice.me()["contacts"]),
    )
    alice.wrap(contact_id, "resolved")
    contact = floor.wait_contact(contact_id, status="wrapped")
    assert contact["channel"] == "walk_in" and contact["agent_id"] == floor.agent_id("alice")
    assert contact["customer"]["name"] == "Pat Lee"
    assert contact["handle_seconds"] is not None and contact["waited_seconds"] == 0
    assert contact["received_at"].startswith(came.strftime("%Y-%m-%dT%H:%M:07"))
    period = {"from": came.isoformat(), "to": (came + timedelta(seconds=1)).isoformat()}
    kpis = httpx.get(
        floor.url("recording", "/v1/kpis"), params=period, headers=floor.operator, timeout=10
    ).json()
    assert kpis["offered"] == 1 and kpis["average_speed_of_answer"] == 0
    assert kpis["average_handle_time"] is not None and kpis["first_contact_resolution"] == 1
    future = alice.post(
        "/v1/walk-ins", {"subject": "x", "started_at": "2999-01-01T00:00:00Z"}, expect=422
    )
    assert "future" in future["detail"]


# -- voice control ----------------------------------------------------------------------------------
def test_a_call_is_bridged_to_the_agents_extension_or_goes_back_in_line(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    platform = _platform(floor)
    call_id = f"call-{time.time_ns()}"
    platform.script(call_id, (409, {"error": "extension busy"}))  # the first bridge fails
    contact_id = _offered_call(floor, call_id)
    first = _holder(desk, contact_id)
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
    second = _holder({k: v for k, v in desk.items() if v is not first}, contact_id)
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
    results = _timeline(floor, contact_id, "call.command_result", 2)
    assert sorted(r["details"]["outcome"] for r in results) == ["connected", "failed"]
    failed = next(r for r in results if r["details"]["outcome"] == "failed")
    assert failed["details"]["attempts"] == 1 and "409" in failed["details"]["reason"]
    # Calling the customer back is a reply once the gate clears it and the platform dials it.
    reply = second.post(f"/v1/contacts/{contact_id}/reply", {"text": "Calling about the fault"})
    [dial] = platform.commands(f"reply:{reply['outbound_request_id']}", "dial")
    assert dial["body"]["extension"] == extensions[second.name]
    assert dial["body"]["target"] == "+61412345678"
    [replied] = _timeline(floor, contact_id, "contact.replied")
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
    _timeline(floor, contact_id, "call.abandoned")
    platform.script(call_id, (200, {"outcome": "no_answer"}))
    desk["bilal"].post("/v1/state", {"state": "available"})
    desk["bilal"].take(contact_id)  # the callback is offered like a call, from its place
    dial = platform.commands(call_id, "dial")
    assert dial[0]["body"]["target"] == "+61412555666"
    assert dial[0]["body"]["extension"] == "2002"
    [retry] = _timeline(floor, contact_id, "callback.result")
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
    queued = _timeline(floor, contact_id, "contact.queued", 3)
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
    offer = _offered(desk["bilal"], "phone")
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
    transfers = _timeline(floor, contact_id, "contact.transfer_requested", 3)
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
            browser = _chromium(playwright)
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
    audit = httpx.get(chen.url("/v1/supervisor/actions"), headers=chen.headers, timeout=10).json()
    actions = [(a["action"], a["agent_id"]) for a in audit["actions"]]
    assert {("monitor", alice.name), ("whisper", alice.name), ("state:break", alice.name)} <= set(
        actions
    )
    if floor.backend == "sqlite":
        assert ("barge", alice.name) in actions
    alice.wrap(contact_id, "resolved")
