"""The operator's tools on a running centre: dead letters listed with their reasons and replayed
once the cause is fixed; a contact's trace printed as a waterfall."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import time
from pathlib import Path

import pytest
import yaml

from switchboard.cli import samples
from switchboard.cli.services import SERVICES
from switchboard.common.db import Database
from switchboard.intake.store import ChannelSystem
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until

# The services an email's spans pass through: escalation starts its SLA clock on contact.queued.
EMAIL_PATH = {"intake", "routing", "escalation", "recording", "desktop", "workforce"}

pytestmark = pytest.mark.parametrize("centre", ["sqlite"], indirect=True)


async def _configure_scanner(centre: RunningCentre, system_id: str) -> None:
    db = Database(centre.settings.sqlalchemy_url_for("intake"))
    try:
        async with db.session() as session:
            session.add(
                ChannelSystem(
                    id=system_id, tenant_id=centre.tenant, secret="unused", channels="letter"
                )
            )
    finally:
        await db.dispose()


def _dead_letters(centre: RunningCentre, topic: str) -> list[dict]:
    result = centre.switchboard("dlq", "list", topic, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_dead_letter_is_listed_with_its_reason_and_processed_after_replay(
    centre: RunningCentre,
) -> None:
    scanner = f"scanner-{time.time_ns()}"
    batch = f"DLQ-{time.time_ns()}"
    letter = {
        "system": scanner,
        "batch_id": batch,
        "item": "1",
        "document_base64": base64.b64encode(
            samples.text_pdf(["A letter that waited for its scanner"])
        ).decode(),
    }
    centre.produce_raw("intake.letter.raw", json.dumps(letter).encode(), key=batch.encode())

    deadline = time.monotonic() + 30
    mine: list[dict] = []
    while not mine and time.monotonic() < deadline:
        mine = [d for d in _dead_letters(centre, "intake.letter.raw") if d["key"] == batch]
        time.sleep(0.5)
    [dead] = mine
    assert dead["reason"] == f"InvalidInput: {scanner!r} is not a mailroom channel system"
    assert dead["consumer_group"] == "switchboard-intake" and dead["source"].startswith(
        "intake.letter.raw["
    )
    listing = centre.switchboard("dlq", "list", "intake.letter.raw").stdout
    assert "is not a mailroom channel system" in listing

    asyncio.run(_configure_scanner(centre, scanner))  # the cause, fixed
    replayed = centre.switchboard("dlq", "replay", "intake.letter.raw", "--id", dead["id"])
    assert replayed.returncode == 0 and "replayed 1 message" in replayed.stdout, replayed.stderr

    contact_id = centre.contact_for_external_id(f"{batch}:1")
    assert contact_id, "the replayed letter became a contact"
    assert "waited for its scanner" in centre.wait_contact(contact_id)["text"]
    unknown = centre.switchboard("dlq", "replay", "intake.letter.raw", "--id", "99:99999")
    assert unknown.returncode == 2 and "no dead letter 99:99999" in unknown.stderr


def test_switchboard_trace_prints_the_contact_s_waterfall(centre: RunningCentre) -> None:
    contact_id = centre.post_email(centre.email(subject="Where is my contact?")).json()[
        "contact_id"
    ]
    centre.wait_contact(contact_id)
    deadline = time.monotonic() + 30
    while True:
        result = centre.switchboard("trace", contact_id, "--json")
        waterfall = json.loads(result.stdout) if result.returncode == 0 else {"rows": []}
        services = {row["service"] for row in waterfall["rows"]}
        if (services == EMAIL_PATH and len(waterfall["rows"]) >= 7) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert services == EMAIL_PATH
    assert (
        waterfall["rows"][0]["operation"] == "POST /v1/email" and waterfall["rows"][0]["depth"] == 0
    )
    assert waterfall["total_ms"] > 0 and waterfall["longest_gap"]["ms"] >= 0
    assert waterfall["rows"][0]["start_ms"] == 0
    text = centre.switchboard("trace", contact_id).stdout
    assert (
        "POST /v1/email" in text
        and "contact.queued process" in text
        and "longest gap between services" in text
    )
    missing = centre.switchboard("trace", "no-such-contact")
    assert missing.returncode == 1 and "no spans" in missing.stderr


def _status(centre: RunningCentre) -> dict:
    result = centre.switchboard("status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_switchboard_status_shows_health_lag_and_dead_letters(centre: RunningCentre) -> None:
    before = _status(centre)
    assert before["broker"] == "ok"
    assert {s["name"]: s["health"] for s in before["services"]} == dict.fromkeys(SERVICES, "ok")

    recording = centre.centre.supervisor.processes["recording"]  # type: ignore[union-attr]
    recording.signal(signal.SIGSTOP)  # recording stops consuming; its lag must show
    try:
        centre.post_email(centre.email(subject="Lagging"))
        deadline = time.monotonic() + 20
        lag = 0
        while lag == 0 and time.monotonic() < deadline:
            lag = next(
                s["consumer_lag"] for s in _status(centre)["services"] if s["name"] == "recording"
            )
            time.sleep(0.5)
        assert lag >= 1
    finally:
        recording.signal(signal.SIGCONT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = {s["name"]: s for s in _status(centre)["services"]}
        if after["recording"]["consumer_lag"] == 0:
            break
        time.sleep(1)
    assert after["recording"]["consumer_lag"] == 0 and after["recording"]["health"] == "ok"

    centre.produce_raw("contact.queued", b"not an event", key=b"status-poison")
    deadline = time.monotonic() + 30
    while (
        _status(centre)["dead_letters"]["contact.queued"]
        <= before["dead_letters"]["contact.queued"]
    ):
        assert time.monotonic() < deadline, "the dead letter is counted"
        time.sleep(0.5)
    screen = " ".join(
        centre.switchboard("status").stdout.split()
    )  # the caption wraps at 80 columns
    assert "dead letters:" in screen and "contact.queued" in screen


def test_a_tenant_added_with_switchboard_tenant_add_takes_contacts_at_once(
    centre: RunningCentre, tmp_path: Path
) -> None:
    """An operator onboards a tenant into the running centre: its first email is queued in its
    own queue and offered to its own agent, with no restart, and its administrator signs in."""
    config = {
        "tenants": [
            {
                "id": "umbrella",
                "name": "Umbrella",
                "timezone": "Australia/Sydney",
                "addresses": {"email": ["help@umbrella.example"]},
                "queues": [{"id": "front", "name": "Front desk", "default": True}],
            }
        ],
        "channel_systems": [{"id": "umbrella-mail", "tenant": "umbrella", "channels": ["email"]}],
        "agents": [{"id": "uma", "name": "Uma", "tenants": ["umbrella"], "capacity": {"email": 2}}],
    }
    path = tmp_path / "umbrella.yaml"
    path.write_text(yaml.safe_dump(config))
    added = centre.switchboard("tenant", "add", str(path), "--administrator", "ursula")
    assert added.returncode == 0, added.stderr
    made = json.loads(added.stdout)
    umbrella = RunningCentre(
        centre.centre,
        centre.backend,
        {**made, "operator_tenant": "umbrella", "operators": made["people"], "operator_token": "-"},
    )
    umbrella.operator = umbrella.sign_in("ursula")
    uma = AgentAtDesk(umbrella, "uma")
    contact_id = umbrella.post_email(umbrella.email(subject="New here")).json()["contact_id"]
    uma.take(contact_id)
    # recording is unhurried (pacing.UNHURRIED): it may record the queueing just after the agent
    # has the contact
    queue_id = until(
        "the queueing recorded", lambda: umbrella.contact(contact_id).json()["queue_id"]
    )
    assert queue_id == "front"
    kept = json.loads(centre.settings.credentials_file.read_text())
    assert (
        "umbrella-mail" in kept["channel_systems"] and centre.mail_system in kept["channel_systems"]
    )
