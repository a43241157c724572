"""Quality in the agent desktop on a whole centre, in a real headless Chromium: the quality analyst
samples an agent's contacts, evaluates one beside its content, and the agent acknowledges it in
their own desktop; then two analysts calibrate it and keep an agreed score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.integration import loopback
from tests.integration.browser import ARTIFACTS, chromium, opened_page, sign_in
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until


@pytest.fixture(scope="module")
def floor(centre: RunningCentre) -> RunningCentre:
    """This module's tenant; the browser's part does not depend on the database, so it runs once,
    on SQLite, and no tenant is added to the PostgreSQL centre for it."""
    if centre.backend != "sqlite":
        pytest.skip("the browser's part does not depend on the database; run once")
    return centre.new_floor("desktop-quality")


def test_an_evaluation_from_sampling_to_the_agents_acknowledgement(floor: RunningCentre) -> None:
    """alice handles a billing email; dana (the quality analyst) samples alice's contacts in her
    desktop, evaluates one beside its content, and alice acknowledges it in hers; then dana and
    chen calibrate it."""
    chen = sign_in(floor, "chen")  # off the floor, so that the billing email is alice's
    loopback.post(
        floor.url("desktop", "/v1/state"), json={"state": "offline"}, headers=chen, timeout=10
    ).raise_for_status()
    alice = AgentAtDesk(floor, "alice")
    answer = floor.post_email(
        floor.email(subject="My bill doubled", body="Why is my bill so high?")
    )
    contact_id = answer.json()["contact_id"]
    alice.take(contact_id)
    alice.post(
        f"/v1/contacts/{contact_id}/wrapup",
        {"disposition": "billing-explained", "outcome": "resolved", "notes": "Tariff"},
    )
    week = {
        "from": (datetime.now(UTC) - timedelta(days=7)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
    }
    until(
        "alice's handling in recording",
        lambda: loopback.post(
            floor.url("recording", "/v1/quality/samples"),
            headers=floor.operator,
            timeout=10,
            json={**week, "agent_id": floor.agent_id("alice"), "size": 20},
        ).json(),
    )

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            alice_page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            opened_page(alice_page, floor, "alice", state="available")
            dana = browser.new_context(viewport={"width": 1366, "height": 1200}).new_page()
            opened_page(dana, floor, "dana")
            evaluating = dana.get_by_test_id("evaluating")
            expect(evaluating).to_be_visible()
            sample = dana.locator("#sample-form")
            sample.get_by_label("Agent").fill(floor.agent_id("alice"))
            sample.get_by_label("How many").fill("100")
            sample.get_by_role("button", name="Sample").click()
            samples = dana.get_by_test_id("samples")
            expect(samples).to_contain_text(f"handled by {floor.agent_id('alice')}", timeout=15_000)
            # alice may have handled others (an earlier test's): evaluate the one handled here.
            dana.locator(f'#samples li[data-contact="{contact_id}"]').get_by_role(
                "button", name="Evaluate"
            ).click()
            evaluation = dana.get_by_test_id("evaluation")
            expect(evaluation).to_contain_text("Why is my bill so high?", timeout=15_000)
            expect(evaluation).to_contain_text("contact.wrapped")
            _answer_every_question(dana, "4")
            dana.get_by_label("Comment for the agent").fill("A model call: clear and complete.")
            dana.get_by_role("button", name="Submit evaluation").click()
            expect(dana.get_by_test_id("evaluation-result")).to_contain_text("Submitted: 100.0")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            dana.screenshot(path=str(ARTIFACTS / "desktop-evaluation.png"), full_page=True)

            mine = alice_page.get_by_test_id("my-evaluations")
            expect(mine).to_contain_text("Customer contact standard: 100.0", timeout=30_000)
            expect(alice_page.get_by_test_id("log")).to_contain_text("evaluation submitted")
            mine.get_by_label("Your comment").first.fill("Thank you")
            mine.get_by_role("button", name="Acknowledge").first.click()
            expect(mine).to_contain_text("acknowledged")
            expect(alice_page.get_by_test_id("my-scorecard")).to_contain_text("Quality score")
            alice_page.screenshot(
                path=str(ARTIFACTS / "desktop-my-performance.png"), full_page=True
            )
        finally:
            browser.close()

    _calibrate(floor, contact_id)
    alices = {"agent_id": floor.agent_id("alice")}

    def acknowledged() -> list[dict[str, Any]] | None:
        found = loopback.get(
            floor.url("recording", "/v1/quality/evaluations"),
            timeout=10,
            headers=floor.operator,
            params=alices,
        ).json()
        return [e for e in found if e["status"] == "acknowledged"] or None

    [done] = until("alice's acknowledgement in recording", acknowledged)
    evaluator = f"agent {floor.agent_id('dana')}"
    assert done["evaluator"] == evaluator and done["agent_comment"] == "Thank you"
    assert done["score"] == 100.0
    agreed = [
        e
        for e in loopback.get(
            floor.url("recording", "/v1/quality/evaluations"),
            timeout=10,
            headers=floor.operator,
            params=alices,
        ).json()
        if e["evaluator"].startswith("calibration")
    ]
    assert [(a["score"], a["status"]) for a in agreed] == [
        (round(100 * (1 + 3 + 2 + 2 + 2 + 3 * 3 / 4 + 2 * 3 / 4) / 15, 2), "submitted")
    ]


def _answer_every_question(page: Page, scale: str) -> None:
    groups = page.locator("#evaluation-questions [role=radiogroup]")
    expect(groups).to_have_count(7)
    for i in range(groups.count()):
        group = groups.nth(i)
        answer = scale if group.get_by_label("4", exact=True).count() else "yes"
        group.get_by_label(answer, exact=True).check()


def _calibrate(floor: RunningCentre, contact_id: str) -> None:
    """dana opens a calibration of the contact with chen; each scores it in their desktop, the
    spread shows where they differ, and dana keeps the agreed score."""
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            dana = browser.new_context(viewport={"width": 1366, "height": 1200}).new_page()
            opened_page(dana, floor, "dana")
            sample = dana.locator("#sample-form")
            sample.get_by_label("Agent").fill(floor.agent_id("alice"))
            sample.get_by_label("How many").fill("100")
            sample.get_by_label("also those already evaluated").check()
            sample.get_by_role("button", name="Sample").click()
            evaluated = dana.locator(f'#samples li[data-contact="{contact_id}"]')
            evaluated.get_by_role("button", name="Evaluate").click()
            expect(dana.get_by_test_id("evaluation")).to_contain_text("Why is my bill so high?")
            dana.get_by_label("Calibrate with").fill(floor.agent_id("chen"))
            dana.get_by_role("button", name="Open a calibration").click()
            expect(dana.get_by_test_id("calibration-status")).to_contain_text("compared")
            _answer_every_question(dana, "4")
            dana.get_by_role("button", name="Submit evaluation").click()
            expect(dana.get_by_test_id("evaluation-result")).to_contain_text(
                "kept for the calibration"
            )

            chen = browser.new_context(viewport={"width": 1366, "height": 1200}).new_page()
            opened_page(chen, floor, "chen")
            mine = chen.get_by_test_id("calibrations")
            expect(mine).to_contain_text("waiting for agent chen", timeout=15_000)
            mine.get_by_role("button", name="Score it").first.click()
            expect(chen.get_by_test_id("calibration-status")).to_contain_text("compared")
            _answer_every_question(chen, "2")
            chen.get_by_role("button", name="Submit evaluation").click()
            expect(chen.get_by_test_id("evaluation-result")).to_contain_text(
                "kept for the calibration"
            )

            dana.reload()
            calibrations = dana.get_by_test_id("calibrations")
            expect(calibrations).to_contain_text("waiting for nobody", timeout=15_000)
            calibrations.get_by_role("button", name="Spread").first.click()
            spread = dana.get_by_test_id("spread")
            expect(spread).to_contain_text("questioning")
            expect(spread).to_contain_text("50 %")  # 4 and 2 of 4: half the scale apart
            calibrations.get_by_role("button", name="Agree a score").first.click()
            _answer_every_question(dana, "3")
            dana.get_by_role("button", name="Keep as the agreed score").click()
            expect(dana.get_by_test_id("evaluation-result")).to_contain_text(
                f"{floor.agent_id('alice')} has been sent it"
            )
            dana.screenshot(path=str(ARTIFACTS / "desktop-calibration.png"), full_page=True)
        finally:
            browser.close()
