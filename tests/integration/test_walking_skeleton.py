"""One contact the whole way: intake → contact.received → routing → contact.queued → recording."""

from __future__ import annotations

import json
import time

from tests.integration import loopback
from tests.integration.harness import RunningCentre, json_lines


def test_every_service_is_healthy_and_exposes_metrics(centre: RunningCentre) -> None:
    for service in centre.centre.services:
        health = loopback.get(centre.url(service, "/healthz"), timeout=5)
        assert health.status_code == 200, health.text
        assert health.json() == {
            "status": "ok",
            "service": service,
            "database": "ok",
            "broker": "ok",
        }
        metrics = loopback.get(centre.url(service, "/metrics"), timeout=5)
        assert metrics.status_code == 200
        assert "switchboard_outbox_backlog" in metrics.text


def test_an_email_is_recorded_with_one_timeline_entry_per_event(centre: RunningCentre) -> None:
    raw = centre.email(subject="Meter reading", body="My meter reads 12345.")
    response = centre.post_email(raw)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["duplicate"] is False

    contact = centre.wait_contact(accepted["contact_id"])
    assert contact["tenant_id"] == centre.tenant
    assert contact["channel"] == "email"
    assert contact["conversation_id"] == accepted["conversation_id"]
    assert contact["customer"]["email"] == "jordan@example.net"
    assert contact["subject"] == "Meter reading"
    assert contact["text"] == "My meter reads 12345."
    assert contact["queue_id"] == "general"
    timeline = contact["timeline"]
    assert [entry["event_type"] for entry in timeline] == ["contact.received", "contact.queued"]
    assert timeline[1]["causation_id"] == timeline[0]["event_id"]
    assert all(entry["occurred_at"] for entry in timeline)


def test_the_same_message_again_is_the_same_contact(centre: RunningCentre) -> None:
    raw = centre.email(subject="Twice")
    first = centre.post_email(raw).json()
    # The mail server delivers it again later, signed anew (an identical signature is a replay).
    again = centre.post_email(raw, centre.signed(raw, timestamp=int(time.time()) + 1))
    assert again.status_code == 202
    assert again.json() == {**first, "duplicate": True}
    contact = centre.wait_contact(first["contact_id"])
    assert [e["event_type"] for e in contact["timeline"]] == ["contact.received", "contact.queued"]


def test_a_reply_joins_the_conversation_of_the_message_it_answers(centre: RunningCentre) -> None:
    original_id = "<original-1@example.net>"
    first = centre.post_email(centre.email(subject="Outage", Message_ID=original_id)).json()
    reply = centre.email(subject="Re: Outage", In_Reply_To=original_id, References=original_id)
    second = centre.post_email(reply).json()
    assert second["contact_id"] != first["contact_id"]
    assert second["conversation_id"] == first["conversation_id"]


def test_an_auto_reply_is_recorded_but_never_routed(centre: RunningCentre) -> None:
    raw = centre.email(subject="Out of office", Auto_Submitted="auto-replied")
    accepted = centre.post_email(raw).json()
    contact = centre.wait_contact(accepted["contact_id"], status="not_routed")
    assert "auto_reply" in contact["not_routed_reason"]
    assert contact["queue_id"] is None


def test_a_contact_of_another_tenant_or_without_a_token_is_not_shown(centre: RunningCentre) -> None:
    accepted = centre.post_email(centre.email()).json()
    centre.wait_contact(accepted["contact_id"])
    url = centre.url("recording", f"/v1/contacts/{accepted['contact_id']}")
    assert loopback.get(url, timeout=5).status_code == 401
    assert (
        loopback.get(url, headers={"Authorization": "Bearer forged"}, timeout=5).status_code == 401
    )
    assert centre.contact("01a00000-0000-7000-8000-000000000000").status_code == 404


def test_switchboard_demo_prints_a_recorded_contact_per_channel(centre: RunningCentre) -> None:
    result = centre.switchboard("demo", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["channel"] for line in lines] == ["email", "phone", "sms", "letter", "fax"]
    assert all(line["recorded"] for line in lines)
    assert lines[0]["timeline"] == ["contact.received", "contact.queued"]
    assert "outage" in lines[2]["text"]
    assert "Please move my account" in lines[3]["text"] and "technician" in lines[4]["text"]


def test_service_logs_are_json_lines_with_ids_bound(centre: RunningCentre) -> None:
    accepted = centre.post_email(centre.email(subject="Logged")).json()
    centre.wait_contact(accepted["contact_id"])
    for service in centre.centre.services:
        records = json_lines(centre.log_lines(service))  # raises if any line is not JSON
        assert all(r["service"] == service for r in records)
    deadline = time.monotonic() + 15  # a line is written once its batch is committed
    while True:
        handled = [
            r
            for r in json_lines(centre.log_lines("recording"))
            if r.get("event") == "message" and r.get("contact_id") == accepted["contact_id"]
        ]
        if len(handled) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {r["event_type"] for r in handled} == {"contact.received", "contact.queued"}
    assert all(r["tenant_id"] == centre.tenant and len(r["trace_id"]) == 32 for r in handled)
    # One line per message, none per batch: FastStream's own "Received" and "Processed" name no
    # contact and are not written at INFO.
    batch_lines = [
        r
        for r in json_lines(centre.log_lines("recording"))
        if r.get("event") in ("Received", "Processed")
    ]
    assert batch_lines == []


def _token_of(centre: RunningCentre, contact_id: str) -> str:
    [event] = [e for e in centre.events("contact.received") if e["contact_id"] == contact_id]
    return str(event["payload"]["conversation_token"])


def test_replies_join_only_their_own_customer_s_conversation(centre: RunningCentre) -> None:
    mailing = f"<newsletter-{time.time_ns()}@acme.example>"
    alice = centre.post_email(centre.email(From="alice@example.net", In_Reply_To=mailing)).json()
    bob = centre.post_email(centre.email(From="bob@example.net", In_Reply_To=mailing)).json()
    assert alice["conversation_id"] != bob["conversation_id"], (
        "replies to a bulk mailing are not merged"
    )

    first = centre.post_email(centre.email(From="carol@example.net", subject="Meter")).json()
    centre.wait_contact(first["contact_id"])
    token = _token_of(centre, first["contact_id"])
    again = centre.post_email(
        centre.email(From="carol@example.net", subject=f"Re: Meter [{token}]")
    ).json()
    assert again["conversation_id"] == first["conversation_id"]
    guessed = centre.post_email(
        centre.email(From="mallory@example.net", subject=f"Re: [{token}]")
    ).json()
    assert guessed["conversation_id"] != first["conversation_id"], (
        "a token from someone else joins nothing"
    )
