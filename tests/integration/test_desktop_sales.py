"""Selling and keeping customers at the desktop, in a real headless Chromium: a sale from the
knowledge search to a placed order, and a retention offer accepted and counted in the KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.integration import loopback
from tests.integration.browser import (
    ARTIFACTS,
    chromium,
    opened_page,
    sign_in,
)
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until

CARD = "4111 1111 1111 1111"


def _off_the_floor(floor: RunningCentre, *agents: str) -> None:
    for agent in agents:
        loopback.post(
            floor.url("desktop", "/v1/state"),
            json={"state": "offline"},
            headers=sign_in(floor, agent),
            timeout=10,
        ).raise_for_status()


def _local(moment: datetime) -> str:
    """A `datetime-local` input's value for `moment` (the browser's zone is the machine's)."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")


def test_a_sale_from_knowledge_search_to_a_placed_order_in_the_browser(
    floor: RunningCentre,
) -> None:
    """alice answers an email asking for a smart meter: the panel beside the contact suggests the
    installation article, she searches, opens and records it, builds the order from the products,
    books the installation, takes a card and places the order with the customer's agreement; the
    installation is a job in dispatch, the contact's timeline has the article and the order, and
    the card number is in no table and no file of the centre."""
    if floor.backend != "sqlite":
        pytest.skip("the browser's part does not depend on the database; run once")
    _off_the_floor(floor, "chen", "bilal")
    alice = AgentAtDesk(floor, "alice")
    answer = floor.post_email(
        floor.email(
            subject="Smart meter",
            body="Could I have a smart meter installed? I want to see my usage.",
        )
    )
    contact_id = answer.json()["contact_id"]
    alice.take(contact_id)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 1366, "height": 1400}).new_page()
            opened_page(page, floor, "alice", state="available")
            page.locator("#my-contacts").get_by_role("button").filter(
                has_text="Smart meter"
            ).click()
            expect(page.get_by_test_id("suggested")).to_contain_text(
                "What happens on smart meter installation day", timeout=15_000
            )
            expect(page.get_by_test_id("script-steps")).to_contain_text(
                "regulatory: Read the terms"
            )
            page.get_by_test_id("knowledge-query").fill("meter installation technician")
            page.get_by_test_id("knowledge-query").press("Enter")  # the keyboard is enough
            results = page.get_by_test_id("knowledge-results")
            expect(results.locator("li").first).to_contain_text("smart meter installation day")
            results.locator("li").first.get_by_role("button", name="Open").click()
            expect(page.get_by_test_id("article")).to_contain_text("Someone over 18 must be home")
            page.get_by_role("button", name="Used on this contact").click()
            expect(page.get_by_test_id("log")).to_contain_text("recorded on the contact")

            page.get_by_test_id("provision").locator("summary").click()
            page.locator('button[data-product="smart-meter"]').click()
            expect(page.get_by_test_id("order-lines")).to_contain_text("Smart meter upgrade")
            expect(page.get_by_test_id("order-total")).to_contain_text("$99.00 up front")
            order = page.get_by_test_id("order-form")
            order.get_by_label("How it is supplied").select_option("installation")
            order.get_by_label("From").fill(_local(start))
            order.get_by_label("To", exact=True).fill(_local(start + timedelta(hours=4)))
            order.get_by_label("Site address").fill("1 George St, Sydney NSW 2000")
            order.get_by_label("Latitude").fill("-33.8688")
            order.get_by_label("Longitude").fill("151.2093")
            order.get_by_role("button", name="Agree supply").click()
            expect(page.get_by_test_id("order-blockers")).not_to_contain_text(
                "book the installation"
            )
            order.get_by_label("Card number").fill(CARD)
            order.get_by_label("Expiry (MM/YY)").fill("12/30")
            order.get_by_label("Security code").fill("123")
            order.get_by_role("button", name="Choose payment").click()
            expect(page.get_by_test_id("order-blockers")).to_be_empty()
            expect(order.get_by_label("Card number")).to_have_value("")
            order.get_by_label("What was read to the customer").fill(
                "Smart meter upgrade, $99 by card; installation in the window agreed."
            )
            order.get_by_label("The customer agreed").check()
            order.get_by_role("button", name="Place order").click()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                expect(page.get_by_test_id("order-status")).to_have_text("(placed)", timeout=15_000)
            finally:
                page.screenshot(path=str(ARTIFACTS / "desktop-order.png"), full_page=True)
                print(
                    "order:",
                    page.locator("#order-error").text_content(),
                    page.get_by_test_id("log").text_content(),
                )
        finally:
            browser.close()

    orders = loopback.get(
        floor.url("catalogue", "/v1/orders"),
        params={"contact_id": contact_id},
        headers=floor.operator,
        timeout=10,
    ).json()["orders"]
    assert [o["status"] for o in orders] == ["placed"]
    placed = orders[0]
    assert placed["payment"]["last4"] == "1111"
    assert placed["agreement"]["by"] == f"agent {floor.agent_id('alice')}"
    job = until(
        "the installation job in dispatch",
        lambda: (lambda r: r.status_code == 200 and r.json())(
            loopback.get(
                floor.url("dispatch", f"/v1/jobs/{placed['job_id']}"),
                headers=floor.operator,
                timeout=10,
            )
        ),
    )
    assert job["work_type"] == "meter-install"
    timeline = until(
        "the order on the contact's timeline",
        lambda: (
            lambda t: (
                t
                if {"knowledge.used", "order.status", "job.requested"}
                <= {e["event_type"] for e in t}
                else None
            )
        )(floor.contact(contact_id).json()["timeline"]),
    )
    assert any(
        e["event_type"] == "order.status" and e["details"]["status"] == "placed" for e in timeline
    )
    _nowhere(floor, CARD.replace(" ", ""), CARD)


def _nowhere(floor: RunningCentre, *secrets: str) -> None:
    """None of `secrets` in any file under the centre's var/ (its SQLite databases, logs, traces,
    mail sink and field outbox)."""
    for path in floor.settings.var_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, f"{secret!r} in {path}"


def test_a_retention_offer_accepted_counts_in_the_kpis(floor: RunningCentre) -> None:
    """A customer asks to cancel: the contact is a cancellation, the offers that fit are
    suggested, the one accepted is recorded and the save rate shows it."""
    _off_the_floor(floor, "chen", "bilal")
    alice = AgentAtDesk(floor, "alice")
    since = datetime.now(UTC) - timedelta(seconds=1)
    answer = floor.post_email(
        floor.email(subject="Leaving", body="Please cancel my account, I am moving interstate.")
    )
    contact_id = answer.json()["contact_id"]
    alice.take(contact_id)
    suggested = loopback.get(
        alice.url(f"/v1/catalogue/contacts/{contact_id}/suggestions"),
        headers=alice.headers,
        timeout=10,
    ).json()
    assert suggested["queue_id"] == "retention" and suggested["retention"]["cancellation"]
    assert [s["article_id"] for s in suggested["scripts"]] == ["retention-call"]
    leaving = {"reason": "moving", "tenure_months": 30, "monthly_value": "140.00"}
    fits = loopback.post(
        alice.url("/v1/catalogue/retention/suggest"),
        json=leaving,
        headers=alice.headers,
        timeout=10,
    ).json()["offers"]
    assert [o["id"] for o in fits] == ["take-us-with-you"]
    made = alice.post(
        "/v1/catalogue/retention/offers",
        {**leaving, "contact_id": contact_id, "offer_id": "take-us-with-you", "answer": "accepted"},
        expect=201,
    )
    assert made["agent_id"] == floor.agent_id("alice")
    unknown = {
        **leaving,
        "contact_id": "00000000-0000-7000-8000-000000000000",
        "offer_id": "take-us-with-you",
        "answer": "accepted",
    }
    alice.post("/v1/catalogue/retention/offers", unknown, expect=404)  # not a contact of hers
    alice.post(
        f"/v1/contacts/{contact_id}/wrapup",
        {"disposition": "retained", "outcome": "retention_offer_accepted"},
    )
    period = {
        "from": since.isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "queue": "retention",
    }
    kpis = until(
        "the save in the KPIs",
        lambda: (lambda k: k if k["retention_save_rate"] is not None else None)(
            loopback.get(
                floor.url("recording", "/v1/kpis"),
                params=period,
                headers=floor.operator,
                timeout=10,
            ).json()
        ),
    )
    assert kpis["retention_save_rate"] == 1.0
