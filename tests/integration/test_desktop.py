"""The agent desktop on a whole centre: two agents in a real headless Chromium, an email through
intake offered to the right one, accepted and wrapped up in the page, and the wrap-up found in
recording; and an agent's event stream dropped and resumed with Last-Event-ID."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from switchboard.common.telemetry import read_spans
from tests.integration import loopback
from tests.integration.browser import (
    ARTIFACTS,
    chromium,
    recorded_with,
    sign_in,
    signed_in_page,
)
from tests.integration.desk import AgentAtDesk, read_stream
from tests.integration.harness import RunningCentre, until


@pytest.fixture(scope="module")
def floor(centre: RunningCentre) -> RunningCentre:
    """This module's tenant (as `conftest.floor`), with the workforce demo: the team leader's
    staffing view and the agents' schedules have this week's roster to show."""
    return centre.new_floor("desktop", workforce_demo=True)


def test_an_email_is_offered_accepted_and_wrapped_up_in_the_browser(floor: RunningCentre) -> None:
    if floor.backend != "sqlite":
        pytest.skip("the browser's part does not depend on the database; run once")
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            alice = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            bilal = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            signed_in_page(alice, floor, "alice")
            signed_in_page(bilal, floor, "bilal")

            # alice is typing when the offer comes: it must not take her keyboard focus.
            typing = alice.get_by_label("Break reason")
            typing.click()
            typing.press_sequentially("back at")

            # A billing question: the billing queue wants billing skill, which alice has and
            # bilal has not.
            raw = floor.email(subject="Question about my invoice", body="Why is it so high?")
            answer = floor.post_email(raw)
            assert answer.status_code == 202, answer.text
            contact_id = answer.json()["contact_id"]

            offer = alice.get_by_test_id("offer")
            expect(offer).to_be_visible(timeout=30_000)
            expect(offer).to_contain_text("billing")
            expect(alice.get_by_test_id("offer-announce")).to_contain_text("Alt+A accepts")
            typing.press_sequentially(" ten")  # a Space that a focused Accept would have taken
            expect(typing).to_be_focused()
            expect(typing).to_have_value("back at ten")
            expect(offer).to_be_visible()
            expect(bilal.get_by_test_id("offer")).to_be_hidden()
            alice.get_by_role("button", name="Accept").click()

            contact = alice.get_by_test_id("contact")
            expect(contact).to_be_visible(timeout=30_000)
            expect(contact).to_contain_text("Question about my invoice")
            expect(contact).to_contain_text("Why is it so high?")
            expect(contact).to_contain_text(
                f"{floor.tenant.title()} Energy billing, my name is Alice."
            )
            wrapup = alice.get_by_test_id("wrapup-form")
            wrapup.get_by_label("Disposition").fill("billing-explained")
            wrapup.get_by_label("Outcome").select_option("resolved")
            wrapup.get_by_label("Notes").fill("Explained the winter tariff.")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            alice.screenshot(path=str(ARTIFACTS / "desktop-contact.png"), full_page=True)
            wrapup.get_by_role("button", name="Wrap up").click()
            expect(alice.get_by_test_id("log")).to_contain_text(
                "wrapped up: billing-explained", timeout=30_000
            )
            expect(contact).to_be_hidden()
            alice.screenshot(path=str(ARTIFACTS / "desktop-wrapped.png"), full_page=True)
        finally:
            browser.close()

    wrapped = recorded_with(floor, contact_id, "contact.wrapped")
    assert wrapped["status"] == "wrapped"
    assert wrapped["agent_id"] == floor.agent_id("alice")
    assert wrapped["outcome"] == "resolved"
    kinds = [entry["event_type"] for entry in wrapped["timeline"]]
    for expected in ("contact.received", "agent.offered", "contact.assigned", "contact.wrapped"):
        assert expected in kinds
    [wrap_entry] = [e for e in wrapped["timeline"] if e["event_type"] == "contact.wrapped"]
    assert wrap_entry["details"]["disposition"] == "billing-explained"
    assert (ARTIFACTS / "desktop-contact.png").stat().st_size > 10_000


def test_the_team_leader_sees_todays_staffing_and_everyone_their_schedule(
    floor: RunningCentre,
) -> None:
    """The demo seeds history, a forecast and a published roster for this week: chen (the team
    leader) opens the staffing view, with every agent's shift today, and their own schedule."""
    if floor.backend != "sqlite":
        pytest.skip("the browser's part does not depend on the database; run once")
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            chen = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            signed_in_page(chen, floor, "chen")
            staffing = chen.get_by_test_id("workforce")
            expect(staffing).to_be_visible()
            expect(chen.get_by_test_id("workforce-summary")).to_contain_text(
                "forecast error", timeout=30_000
            )
            agents = chen.locator("#workforce-agents tr")
            expect(agents).to_have_count(4)  # dana, the quality analyst, has no shifts
            for name in ("Alice Nguyen", "Bilal Haddad", "Chen Wei", "Dana Okafor"):
                expect(staffing).to_contain_text(name)
            days = chen.locator("#schedule-days tr")
            expect(days.first).to_be_visible(timeout=30_000)
            # This week's published days from yesterday on: each a shift (from, an en dash, to)
            # or a day off.
            for i in range(days.count()):
                shift = days.nth(i).locator("td").nth(1).inner_text()
                assert shift == "off" or shift.startswith("leave") or "\u2013" in shift, shift
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            chen.screenshot(path=str(ARTIFACTS / "desktop-staffing.png"), full_page=True)
        finally:
            browser.close()


def _read_events(
    centre: RunningCentre, headers: dict[str, str], count: int
) -> list[tuple[int, str, dict[str, Any]]]:
    """The first `count` events of a new connection to the stream, then the connection drops."""
    return read_stream(centre, headers, lambda events: len(events) == count)


def test_a_dropped_stream_resumed_with_last_event_id_misses_and_repeats_nothing(
    floor: RunningCentre,
) -> None:
    chen = sign_in(floor, "chen")
    [(start, kind, hello)] = _read_events(floor, chen, 1)
    assert kind == "hello" and hello["agent_id"] == floor.agent_id("chen")

    def take_a_break(n: int) -> None:
        answer = loopback.post(
            floor.url("desktop", "/v1/state"),
            headers=chen,
            json={"state": "break", "reason": f"break {n}"},
            timeout=10,
        )
        assert answer.status_code == 202

    for n in range(4):
        take_a_break(n)
    first = _read_events(floor, {**chen, "Last-Event-ID": str(start)}, 3)  # then it drops
    for n in range(4, 8):
        take_a_break(n)  # while the agent is disconnected
    rest = _read_events(floor, {**chen, "Last-Event-ID": str(first[-1][0])}, 5)

    seen = first + rest
    assert [seq for seq, _, _ in seen] == list(range(start + 1, start + 9))
    assert [kind for _, kind, _ in seen] == ["state"] * 8
    assert [data["reason"] for _, _, data in seen] == [f"break {n}" for n in range(8)]


def test_the_desktop_refuses_bad_tokens_and_other_tenants(floor: RunningCentre) -> None:
    forged = {"Authorization": "Bearer eyJzdWIiOiJhbGljZSJ9.AAAA"}
    for path in ("/v1/me", "/v1/events", "/v1/contacts/anything"):
        answer = loopback.get(floor.url("desktop", path), headers=forged, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["detail"] == "token signature does not match"
    alice = sign_in(floor, "alice")
    missing = loopback.get(floor.url("desktop", "/v1/contacts/no-such-contact"), headers=alice)
    assert missing.status_code == 404
    page = loopback.get(floor.url("desktop", "/"), timeout=10)
    assert page.status_code == 200 and '<form id="sign-in"' in page.text


def test_a_contact_handled_at_the_desktop_is_one_trace_through_every_service(
    floor: RunningCentre,
) -> None:
    """Intake's request, routing's offer, the agent's accept and wrap-up at the desktop, and
    recording's record of them: one trace, each span after its parent; `switchboard trace`
    draws it."""
    alice = AgentAtDesk(floor, "alice")  # billing: only alice has the skill
    answer = floor.post_email(floor.email(subject="Invoice questions", body="Trace me."))
    contact_id = answer.json()["contact_id"]
    alice.take(contact_id)
    alice.wrap(contact_id, "resolved")
    recorded_with(floor, contact_id, "contact.wrapped")

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = read_spans(floor.settings.trace_dir)
        ids = {s["traceId"] for s in spans if _attribute(s, "switchboard.contact_id") == contact_id}
        trace = [s for s in spans if s["traceId"] in ids]
        names = {(s["service"], s["name"]) for s in trace}
        span_ids = {s["spanId"] for s in trace}
        complete = (
            len(ids) == 1
            and {
                ("switchboard-desktop", "desktop accept"),
                ("switchboard-desktop", "desktop wrap-up"),
                ("switchboard-recording", "contact.wrapped process"),
            }
            <= names
            and all(s.get("parentSpanId", s["spanId"]) in span_ids for s in trace)
        )
        return trace if complete else None

    trace = until("the whole trace on disk", whole_trace)
    by_id = {s["spanId"]: s for s in trace}
    [root] = [s for s in trace if "parentSpanId" not in s]
    assert root["name"] == "POST /v1/email" and root["service"] == "switchboard-intake"
    assert {s["service"] for s in trace} >= {
        "switchboard-intake",
        "switchboard-routing",
        "switchboard-desktop",
        "switchboard-recording",
    }
    for span in trace:
        if span is not root:
            parent = by_id[span["parentSpanId"]]
            assert int(span["startTimeUnixNano"]) >= int(parent["startTimeUnixNano"])

    printed = floor.switchboard("trace", contact_id)
    assert printed.returncode == 0, printed.stderr
    assert "desktop" in printed.stdout and "desktop wrap-up" in printed.stdout


def _attribute(span: dict[str, Any], key: str) -> str | None:
    for attribute in span.get("attributes", []):
        if attribute["key"] == key:
            return attribute["value"].get("stringValue")
    return None
