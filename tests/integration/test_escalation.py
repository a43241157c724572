"""Escalation on the real broker with a controllable clock (the escalation service reads its
offset from a file the test writes): a breach climbs the path, an answered contact's clock stops
with its timers, a promised follow-up fires on time, and a restart of escalation between
scheduling and firing loses and duplicates nothing."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration import loopback
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until


@pytest.fixture(scope="module")
def promises(clocked: RunningCentre) -> tuple[RunningCentre, Path]:
    return clocked.new_tenant("promises"), clocked.clock("escalation")


def _set_clock(clock_file: Path, moment: datetime) -> None:
    clock_file.write_text(str((moment - datetime.now(UTC)).total_seconds()))


def _sla(centre: RunningCentre, contact_id: str) -> dict[str, Any] | None:
    answer = loopback.get(
        centre.url("escalation", f"/v1/contacts/{contact_id}/sla"), headers=centre.operator
    )
    return dict(answer.json()) if answer.status_code == 200 else None


def _found(centre: RunningCentre, contact_id: str, kind: str) -> dict[str, Any] | None:
    sla = _sla(centre, contact_id)
    return next((c for c in sla["clocks"] if c["kind"] == kind), None) if sla else None


def _clock(centre: RunningCentre, contact_id: str, kind: str) -> dict[str, Any]:
    """The contact's clock of that kind, once escalation has it."""
    return until(f"{contact_id}'s {kind} clock", lambda: _found(centre, contact_id, kind))


def _events(centre: RunningCentre, topic: str, contact_id: str) -> list[dict[str, Any]]:
    return [e for e in centre.events(topic) if e["contact_id"] == contact_id]


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_promises_are_kept_through_a_restart(promises: tuple[RunningCentre, Path]) -> None:
    centre, clock_file = promises
    late = centre.post_email(centre.email(subject="A question", body="Anyone there?"))
    answered = centre.post_email(centre.email(subject="Another question", body="Hello?"))
    late_id, answered_id = late.json()["contact_id"], answered.json()["contact_id"]

    # alice answers one of them, and promises the customer a call back in ten minutes.
    alice = AgentAtDesk(centre, "alice")
    alice.take(answered_id)
    alice.post(f"/v1/contacts/{answered_id}/reply", {"text": "We are on it."})
    due = datetime.now(UTC) + timedelta(minutes=10)
    promised = alice.post(f"/v1/contacts/{answered_id}/follow-ups", {"due_at": due.isoformat()})
    until(
        "the answer to stop its clock",
        lambda: _clock(centre, answered_id, "first_response")["state"] == "met",
    )
    until("the follow-up's clock", lambda: _clock(centre, answered_id, "follow_up"))
    first = _clock(centre, late_id, "first_response")
    assert first["state"] == "running" and first["policy_id"] == "written"

    # Escalation restarts with everything scheduled and nothing fired.
    escalation = centre.centre.supervisor.processes["escalation"]  # type: ignore[union-attr]
    old_pid = escalation.pid
    escalation.signal(signal.SIGKILL)
    escalation.wait(10)
    centre.centre.wait_healthy(timeout=90)
    assert escalation.pid != old_pid

    # The follow-up falls due: fired within a second or so of the clock reaching it.
    _set_clock(clock_file, due + timedelta(seconds=1))
    moved = time.monotonic()
    [fired] = until(
        "followup.due", lambda: _events(centre, "followup.due", answered_id) or None, timeout=15
    )
    assert time.monotonic() - moved < 5
    assert fired["payload"]["follow_up_id"] == promised["follow_up_id"]
    assert fired["payload"]["agent_id"] == centre.agent_id("alice")
    alice.post(f"/v1/follow-ups/{promised['follow_up_id']}/done", {})
    until(
        "the follow-up kept",
        lambda: _clock(centre, answered_id, "follow_up")["state"].startswith("met"),
    )

    # The unanswered one: warned at 75 %, breached at its due time, then at the next level.
    _set_clock(clock_file, _at(first["warn_at"]) + timedelta(seconds=1))
    until(
        "the warning",
        lambda: (
            [a for a in _events(centre, "sla.alert", late_id) if a["payload"]["stage"] == "warning"]
            or None
        ),
    )
    _set_clock(clock_file, _at(first["due_at"]) + timedelta(seconds=1))
    until("tier 2", lambda: _events(centre, "contact.escalated", late_id) or None)
    rearmed = until(
        "the clock re-armed at tier 2",
        lambda: (c := _clock(centre, late_id, "first_response"))["breaches"] == 1 and c,
    )
    _set_clock(clock_file, _at(rearmed["due_at"]) + timedelta(seconds=1))
    until("team leader", lambda: len(_events(centre, "contact.escalated", late_id)) >= 2 or None)

    time.sleep(2)  # anything fired twice would be on the topics by now
    escalated = _events(centre, "contact.escalated", late_id)
    assert [e["payload"]["level"] for e in escalated] == ["tier 2", "team leader"]
    assert [e["payload"]["priority"] for e in escalated] == [7, 8]
    alerts = [
        (a["payload"]["clock"], a["payload"]["stage"])
        for a in _events(centre, "sla.alert", late_id)
    ]
    assert alerts.count(("first_response", "warning")) == 1
    assert alerts.count(("first_response", "breach")) == 2
    assert _events(centre, "contact.escalated", answered_id) == [], "answered: nothing escalated"
    assert len(_events(centre, "followup.due", answered_id)) == 1
    assert [
        a
        for a in _events(centre, "sla.alert", answered_id)
        if a["payload"]["clock"] == "first_response"
    ] == []
    # Routing moved the breached contact up: queued again at the level's priority.
    requeued = [
        q for q in _events(centre, "contact.queued", late_id) if q["payload"]["priority"] == 8
    ]
    assert requeued, "routing re-queued it at the team leader's priority"
