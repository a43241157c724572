"""More ways in and out, on a whole centre whose telephony platform and SMS gateway are a real
loopback server (tests/integration/platform.py): a web chat from the widget in a real browser to
the agent's reply and the transcript; an SMS in and the reply out through the Do Not Call gate; a
walk-in; a call bridged to the agent's extension by `call.route` (and one the platform could not
connect, back in line); a callback queued, offered, dialled and tried again; transfers to a named
agent, warm and in conference; and a supervisor's monitor command and forced state."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from websockets.sync.client import connect

from tests.integration import loopback
from tests.integration.browser import chromium
from tests.integration.desk import AgentAtDesk, holder_of, offered_on, timeline_of
from tests.integration.harness import RunningCentre, until
from tests.integration.platform import ChannelPlatform


def _platform(centre: RunningCentre) -> ChannelPlatform:
    assert centre.platform is not None
    return centre.platform


# -- web chat ---------------------------------------------------------------------------------------
def test_a_chat_from_the_widget_to_the_agents_reply_and_the_transcript(
    floor: RunningCentre, desk: dict[str, AgentAtDesk]
) -> None:
    if floor.backend != "sqlite":
        pytest.skip(
            "the browser's part does not depend on the database; the chat's limits run on both"
        )
    with sync_playwright() as playwright:
        browser = chromium(playwright)
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
            contact_id = offered_on(holder, "chat")["contact_id"]
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
            taker = holder_of(desk, again)
            taker.take(again)
            taker.wrap(again, "resolved")
        finally:
            browser.close()
    record = timeline_of(floor, contact_id, "contact.wrapped")
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
    holder = holder_of(desk, contact_id)
    holder.take(contact_id)
    holder.wrap(contact_id, "unresolved")
    transcript = until(
        f"the {len(acks)} lines taken in the transcript",
        lambda: (
            t
            if len(t := floor.contact(contact_id).json().get("transcript", [])) == len(acks)
            else None
        ),
    )
    # What was taken, in order: the burst, and a message the bucket had a token for again (which
    # may come after one it refused, when the machine is slow).
    taken = [f"quick {ack['id'].removeprefix('b')}" for ack in acks]
    assert [line["text"] for line in transcript] == taken


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
    holder = holder_of(desk, first)
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
    [replied] = timeline_of(floor, first, "contact.replied")
    assert replied["details"]["channel"] == "sms"
    holder.wrap(first, "resolved")

    second = text(f"sms-{time.time_ns()}", "Thanks!")
    timeline_of(floor, second, "contact.received")
    conversations = {floor.contact(c).json()["conversation_id"] for c in (first, second)}
    assert len(conversations) == 1  # threaded by number
    holder = holder_of(desk, second)
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
    kpis = loopback.get(
        floor.url("recording", "/v1/kpis"), params=period, headers=floor.operator, timeout=10
    ).json()
    assert kpis["offered"] == 1 and kpis["average_speed_of_answer"] == 0
    assert kpis["average_handle_time"] is not None and kpis["first_contact_resolution"] == 1
    future = alice.post(
        "/v1/walk-ins", {"subject": "x", "started_at": "2999-01-01T00:00:00Z"}, expect=422
    )
    assert "future" in future["detail"]


# -- voice control ----------------------------------------------------------------------------------
