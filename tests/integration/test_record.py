"""The record as an operator uses it, on both databases: a customer found by email or phone with
their history, merged, exported whole (APP 12) — every read in the access audit — and the KPIs."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

from tests.integration import loopback
from tests.integration.harness import RunningCentre

WHY = {"X-Access-Reason": "customer called about a complaint"}


def test_customers_history_merge_export_and_audit(centre: RunningCentre) -> None:
    address = f"pat.{time.time_ns()}@example.net"
    ids = [
        centre.post_email(centre.email(subject=s, From=f"Pat Tester <{a}>")).json()["contact_id"]
        for s, a in (("First", address), ("Second", address.upper()))
    ]
    number = f"+61412{time.time_ns() % 10**6:06d}"  # 0412: an allocated mobile range
    call = centre.call_event(
        {
            "event": "offered",
            "call_id": f"rec-{time.time_ns()}",
            "ani": number,
            "dnis": centre.phone_number,
        }
    )
    ids.append(call.json()["contact_id"])
    for contact_id in ids:
        centre.wait_contact(contact_id)
    api = centre.url("recording", "/v1/customers")
    headers = {**centre.operator, **WHY}
    assert loopback.get(api, params={"email": address}).status_code == 401

    [pat] = loopback.get(api, params={"email": address}, headers=headers).json()
    assert pat["name"] == "Pat Tester" and pat["identities"]["email"] == [address]
    history = loopback.get(f"{api}/{pat['customer_id']}", headers=headers).json()
    assert [c["contact_id"] for c in history["contacts"]] == ids[:2]
    [caller] = loopback.get(api, params={"phone": number}, headers=headers).json()
    assert caller["customer_id"] != pat["customer_id"]

    merged = loopback.post(
        f"{api}/{pat['customer_id']}/merge",
        json={"absorb": caller["customer_id"], "reason": "same person, confirmed by phone"},
        headers=headers,
    )
    assert merged.status_code == 200, merged.text
    export = loopback.get(f"{api}/{pat['customer_id']}/export", headers=headers).json()
    assert sorted(c["contact_id"] for c in export["contacts"]) == sorted(ids)
    assert {(i["kind"], i["value"]) for i in export["identities"]} == {
        ("email", address),
        ("phone", number),
    }
    assert all(c["timeline"] for c in export["contacts"])
    actions = [(a["action"], a["actor"], a["reason"]) for a in export["access_log"]]
    assert ("search", "demo operator", WHY["X-Access-Reason"]) in actions
    assert ("read", "demo operator", WHY["X-Access-Reason"]) in actions
    assert ("merge", "demo operator", "same person, confirmed by phone") in actions
    assert ("export", "demo operator", WHY["X-Access-Reason"]) in actions
    other = loopback.get(f"{api}/{pat['customer_id']}", headers={"Authorization": "Bearer nope"})
    assert other.status_code == 401

    corrections = f"{api}/{pat['customer_id']}/corrections"
    fixed = {
        "field": "email",
        "old_value": address,
        "new_value": "pat@example.org",
        "reason": "customer asked (APP 13)",
    }
    assert loopback.post(corrections, json=fixed, headers=headers).status_code == 202
    wrong = {**fixed, "old_value": "nobody@example.net"}
    assert loopback.post(corrections, json=wrong, headers=headers).status_code == 422
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        export = loopback.get(f"{api}/{pat['customer_id']}/export", headers=headers).json()
        if export["corrections"]:
            break
        time.sleep(0.3)
    [correction] = export["corrections"]
    assert (correction["old_value"], correction["new_value"]) == (address, "pat@example.org")
    assert ("email", "pat@example.org") in {(i["kind"], i["value"]) for i in export["identities"]}


def test_kpis_for_a_period(centre: RunningCentre) -> None:
    contact_id = centre.post_email(centre.email(subject="Counting")).json()["contact_id"]
    centre.wait_contact(contact_id)
    now = datetime.now(UTC)
    url = centre.url("recording", "/v1/kpis")
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }
    figures = loopback.get(url, params=period, headers=centre.operator)
    assert figures.status_code == 200, figures.text
    body = figures.json()
    for key in (
        "service_level",
        "average_speed_of_answer",
        "average_handle_time",
        "abandonment_rate",
        "first_contact_resolution",
        "escalation_rate",
        "csat",
        "nps",
        "conversion_rate",
    ):
        assert key in body
    assert body["offered"] >= 1
    assert loopback.get(url, params=period).status_code == 401
    assert (
        loopback.get(
            url, params={**period, "tenant": "globex"}, headers=centre.operator
        ).status_code
        == 403
    )
    backwards = {"from": period["to"], "to": period["from"]}
    assert loopback.get(url, params=backwards, headers=centre.operator).status_code == 422


def test_retention_runs_on_demand_and_reports(centre: RunningCentre) -> None:
    url = centre.url("recording", "/v1/retention")
    report = loopback.post(f"{url}/run", headers=centre.operator)
    assert report.status_code == 200, report.text
    assert report.json()["contacts"] == 0, "the demo tenant keeps contacts for seven years"
    runs = loopback.get(f"{url}/runs", headers=centre.operator).json()
    assert runs[0]["cutoff"] == report.json()["cutoff"]


def test_contacts_of_a_period_as_csv(centre: RunningCentre) -> None:
    contact_id = centre.post_email(centre.email(subject="For the report")).json()["contact_id"]
    centre.wait_contact(contact_id)
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }
    url = centre.url("recording", "/v1/contacts.csv")
    response = loopback.get(url, params=period, headers=centre.operator)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    mine = next(r for r in rows if r["contact_id"] == contact_id)
    assert mine["channel"] == "email" and mine["status"] in ("queued", "offered")
    assert "customer_email" not in rows[0], "customers' details stay behind the audited endpoints"
    assert loopback.get(url, params=period).status_code == 401
