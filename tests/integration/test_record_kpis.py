"""The record of a real working period, through the real broker: contacts on all four channels
offered, accepted, replied to, escalated, followed up and wrapped up by agents at the desktop,
then surveyed. Every timeline and every KPI is what this test computes by hand from them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any

import httpx
import pytest

from switchboard.cli import samples
from tests.integration import loopback
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until


@pytest.fixture(scope="module")
def period_centre(centre: RunningCentre) -> RunningCentre:
    """A tenant of its own, so that the period holds exactly this test's contacts."""
    return centre.new_tenant("period")


def _told(agent: AgentAtDesk, event_type: str) -> bool:
    """Whether the agent's stream, read from its start, has an event of this type (the stream
    never ends: a pause in it means everything there is has been read)."""
    headers = {**agent.headers, "Last-Event-ID": "0"}
    try:
        with loopback.stream("GET", agent.url("/v1/events"), headers=headers, timeout=2) as stream:
            return any(line == f"event: {event_type}" for line in stream.iter_lines())
    except httpx.ReadTimeout:
        return False


EXPECTED_TIMELINES = {
    "email": [
        "contact.received",
        "contact.queued",
        "agent.offered",
        "contact.assigned",
        "contact.replied",
        "contact.wrapped",
        "survey.responded",
    ],
    "letter": [
        "contact.received",
        "contact.queued",
        "agent.offered",
        "contact.assigned",
        "contact.wrapped",
        "survey.responded",
    ],
    "fax": [
        "contact.received",
        "contact.queued",
        "agent.offered",
        "contact.assigned",
        "followup.promised",
        "followup.done",
        "contact.wrapped",
    ],
    "phone": [
        "contact.received",
        "contact.queued",
        "agent.offered",
        "contact.assigned",
        "contact.wrapped",
        "contact.escalated",
        "contact.queued",
        "agent.offered",
        "contact.assigned",
        "contact.wrapped",
    ],
}
BRIDGING = {"call.route", "call.command_result"}


def test_a_period_on_four_channels_is_recorded_and_measured_exactly(
    period_centre: RunningCentre,
) -> None:
    centre = period_centre
    alice = AgentAtDesk(centre, "alice")  # bilal joins later, for the escalated call
    contacts: dict[str, str] = {}

    answer = centre.post_email(centre.email(subject="A question", body="When do you open?"))
    contacts["email"] = answer.json()["contact_id"]
    alice.take(contacts["email"])
    alice.post(f"/v1/contacts/{contacts['email']}/reply", {"text": "From 8 am, weekdays."})
    alice.wrap(contacts["email"], "resolved")

    letter = samples.text_pdf(["Dear Acme Energy,", "I would like the green plan.", "Alex"])
    fields = {"batch_id": f"B-{time.time_ns()}", "item": "1", "sender_name": "Alex Smith"}
    contacts["letter"] = centre.post_document("/v1/letter", fields, letter).json()["contact_id"]
    alice.take(contacts["letter"])
    alice.wrap(contacts["letter"], "sale")

    fax = samples.scanned_tiff([["FAX TO ACME ENERGY", "Please call me about my meter."]], fax=True)
    fields = {
        "fax_id": f"fx-{time.time_ns()}",
        "called_number": centre.fax_number,
        "calling_number": "02 5550 7777",
        "pages": "1",
    }
    contacts["fax"] = centre.post_document("/v1/fax", fields, fax).json()["contact_id"]
    alice.take(contacts["fax"])
    due = datetime.now(UTC) + timedelta(seconds=3)
    promised = alice.post(f"/v1/contacts/{contacts['fax']}/follow-ups", {"due_at": due.isoformat()})
    until(  # kept before it falls due, once the desktop has the promise
        "the follow-up to be marked done",
        lambda: (
            loopback.post(
                alice.url(f"/v1/follow-ups/{promised['follow_up_id']}/done"),
                json={},
                headers=alice.headers,
            ).status_code
            == 202
        ),
    )
    alice.wrap(contacts["fax"], "follow_up_promised")

    call = {
        "event": "offered",
        "call_id": f"kpi-call-{time.time_ns()}",
        "ani": "0412 345 678",
        "dnis": centre.phone_number,
    }
    contacts["phone"] = centre.call_event(call).json()["contact_id"]
    alice.take(contacts["phone"])
    alice.post(
        f"/v1/contacts/{contacts['phone']}/escalate",
        {"reason": "needs a faults specialist", "category": "technical", "queue_id": "faults"},
    )
    bilal = AgentAtDesk(centre, "bilal")
    bilal.take(contacts["phone"])
    bilal.wrap(contacts["phone"], "resolved")
    until(
        "alice to hear how her escalation ended",
        lambda: _told(alice, "escalation_outcome"),
    )

    for channel, csat, nps in (("email", 5, 10), ("letter", 4, 7)):
        centre.wait_contact(contacts[channel], status="wrapped")
        answer = loopback.post(
            centre.url("recording", f"/v1/contacts/{contacts[channel]}/survey"),
            json={"csat": csat, "nps": nps},
            headers=centre.operator,
        )
        assert answer.status_code == 202, answer.text

    timelines = {}
    for channel, expected in EXPECTED_TIMELINES.items():
        # Each assignment of the call is bridged by the platform (a command and its result).
        bridged = 2 * expected.count("contact.assigned") if channel == "phone" else 0
        timeline = centre.wait_timeline(
            contacts[channel], entries=len(expected) + bridged, timeout=45
        )
        kinds = [e["event_type"] for e in timeline]
        assert [k for k in kinds if k not in BRIDGING] == expected, channel
        assert sorted(k for k in kinds if k in BRIDGING) == sorted(
            ["call.route", "call.command_result"] * (bridged // 2)
        ), channel
        timelines[channel] = [e for e in timeline if e["event_type"] not in BRIDGING]
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)

    # By hand, from the timelines: the first assignment's wait; handle time from the first
    # assignment to the last wrap-up; the last wrap-up's outcome.
    def first(timeline: list[dict[str, Any]], kind: str) -> dict[str, Any]:
        return next(e for e in timeline if e["event_type"] == kind)

    def last(timeline: list[dict[str, Any]], kind: str) -> dict[str, Any]:
        return [e for e in timeline if e["event_type"] == kind][-1]

    def at(entry: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(entry["occurred_at"])

    waits = [first(t, "contact.assigned")["details"]["waited_seconds"] for t in timelines.values()]
    handles = [
        (at(last(t, "contact.wrapped")) - at(first(t, "contact.assigned"))).total_seconds()
        for t in timelines.values()
    ]
    outcomes = {c: last(t, "contact.wrapped")["details"]["outcome"] for c, t in timelines.items()}
    assert outcomes == {
        "email": "resolved",
        "letter": "sale",
        "fax": "follow_up_promised",
        "phone": "resolved",
    }

    figures = loopback.get(
        centre.url("recording", "/v1/kpis"),
        params={
            "from": "2000-01-01T00:00:00Z",
            "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        headers=centre.operator,
    ).json()
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (4, 4, 0)
    assert figures["service_level"] == round(sum(w <= 20 for w in waits) / 4, 4)
    assert figures["average_speed_of_answer"] == pytest.approx(mean(waits), abs=1e-3)
    assert figures["average_handle_time"] == pytest.approx(mean(handles), abs=1e-3)
    assert figures["abandonment_rate"] == 0.0
    assert figures["first_contact_resolution"] == 2 / 4  # email and the call; none came back
    assert figures["escalation_rate"] == 1 / 4
    assert figures["transfer_rate"] == 1 / 4  # the call, from alice to bilal
    assert figures["conversion_rate"] == 1.0  # one sale of one sales opportunity
    assert figures["csat"] == (5 + 4) / 2
    assert figures["nps"] == 50.0  # one promoter (10), one passive (7)
    assert figures["follow_ups_on_time"] == 1.0
