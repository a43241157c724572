"""The agent desktop in a real headless Chromium (Debian's, with the flags the tests run it with),
and the sign-in and recording look-ups the desktop's browser tests share."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, expect

from tests.integration import loopback
from tests.integration.harness import RunningCentre

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("SWITCHBOARD_TEST_ARTIFACTS", "test-artifacts"))


def password_of(centre: RunningCentre, agent: str) -> str:
    return str(centre.credentials["agents"][centre.agent_id(agent)]["password"])


def sign_in(centre: RunningCentre, agent: str) -> dict[str, str]:
    answer = loopback.post(
        centre.url("desktop", "/v1/session"),
        json={"username": centre.agent_id(agent), "password": password_of(centre, agent)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def opened_page(page: Page, centre: RunningCentre, agent: str, state: str = "offline") -> None:
    page.goto(centre.url("desktop", "/"))
    page.get_by_label("Username").fill(centre.agent_id(agent))
    page.get_by_label("Password").fill(password_of(centre, agent))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("state")).to_have_text(state)


def signed_in_page(page: Page, centre: RunningCentre, agent: str) -> None:
    opened_page(page, centre, agent)
    page.get_by_label("Set my state").select_option("available")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_test_id("state")).to_have_text("available", timeout=15_000)


def chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, as the tests run it (Playwright never downloads a browser)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def recorded_with(centre: RunningCentre, contact_id: str, event_type: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = centre.contact(contact_id)
        if response.status_code == 200:
            record = response.json()
            if any(e["event_type"] == event_type for e in record["timeline"]):
                return dict(record)
        time.sleep(0.2)
    raise AssertionError(f"{contact_id}: no {event_type} in recording after 30 s")
