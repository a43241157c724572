"""An erasure request on a whole centre: nothing of the customer's is left in any service's
answers, tables, logs or files, and the KPIs still stand."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration import loopback
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until

HOME = "hooli"


@pytest.fixture(scope="module")
def tenants(centre: RunningCentre) -> RunningCentre:
    """This tenant, as its people see the centre."""
    return centre.new_tenant(HOME, edit=_round_the_clock)


def _round_the_clock(config: dict[str, Any]) -> None:
    """Technicians on shift at any hour, so the erasure's job is despatched whenever the test runs."""
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for technician in config["technicians"]:
        technician["shifts"] = [{"days": every_day, "open": "00:00", "close": "24:00"}]


def test_an_erased_customer_leaves_nothing_of_theirs_anywhere_and_the_kpis_stand(
    tenants: RunningCentre,
) -> None:
    centre, mark = tenants, secrets.token_hex(4)
    number = f"0412{secrets.randbelow(10**6):06d}"
    name, email = f"Quinn Erasmus {mark}", f"quinn.{mark}@customer.example"
    street, said = f"{mark} Erasure Lane", f"smell of gas near the meter {mark}"
    e164 = "+61" + number[1:]
    alice = AgentAtDesk(centre, "alice")

    # They emailed: the reply went out, a technician was sent, the contact was escalated.
    raw = centre.email(
        subject=f"Gas at {street}",
        body=f"There is a {said}. Call {number}.",
        From=f"{name} <{email}>",
    )
    emailed = centre.post_email(raw).json()["contact_id"]
    alice.take(emailed)
    alice.post(f"/v1/contacts/{emailed}/reply", {"text": f"Dear {name}, we are sending someone."})
    start = datetime.now(UTC)
    job = alice.post(
        f"/v1/contacts/{emailed}/jobs",
        {
            "site": {"name": f"{name}'s home", "address": street, "lat": -33.8731, "lon": 151.2069},
            "work_type": "gas leak",
            "skills": ["gas"],
            "estimated_minutes": 60,
            "priority": "urgent",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=8)).isoformat()},
            "special_instructions": f"{said}; ring {number}",
            "customer": {"name": name, "phone": e164},
        },
    )["job_id"]
    until("the job sheet sent", lambda: _job(centre, job).get("technician_id"))
    alice.post(
        f"/v1/contacts/{emailed}/escalate",
        {"reason": f"{name} is worried", "category": "technical", "queue_id": "faults"},
    )
    # They called too.
    call = f"call-{mark}"
    called = centre.call_event(
        {"event": "offered", "call_id": call, "ani": number, "dnis": centre.phone_number}
    ).json()["contact_id"]
    centre.call_event({"event": "abandoned", "call_id": call})
    centre.wait_contact(called, status="abandoned")
    privacy = centre.sign_in("privacy")
    customer_of = {c: centre.contact(c).json()["customer_id"] for c in (emailed, called)}
    merged = loopback.post(
        centre.url("recording", f"/v1/customers/{customer_of[emailed]}/merge"),
        headers=privacy,
        json={"absorb": customer_of[called], "reason": "the same person"},
    )
    assert merged.status_code == 200, merged.text
    # A correction (APP 13) reaches the desktop's and dispatch's copies.
    renamed = f"Quinn Erasmus-Smith {mark}"
    corrected = loopback.post(
        centre.url("recording", f"/v1/customers/{customer_of[emailed]}/corrections"),
        headers=privacy,
        json={"field": "name", "new_value": renamed, "reason": "married name"},
    )
    assert corrected.status_code == 202, corrected.text
    desk_copy = alice.url(f"/v1/contacts/{emailed}")
    until(
        "the desktop's copy corrected",
        lambda: (
            loopback.get(desk_copy, headers=alice.headers).json()["customer_name"] == renamed
            or None
        ),
    )
    until("the job corrected", lambda: _job(centre, job)["customer_name"] == renamed or None)
    original, name = name, renamed
    until("the escalation recorded", lambda: centre.contact(emailed).json()["escalated"] or None)
    until("every copy made", lambda: _everywhere(centre, [email, name, street]) or None)
    today = {
        "from": (start - timedelta(hours=1)).isoformat(),
        "to": (start + timedelta(hours=1)).isoformat(),
    }
    before = loopback.get(
        centre.url("recording", "/v1/kpis"), params=today, headers=centre.operator
    ).json()

    asked = loopback.post(
        centre.url("recording", f"/v1/customers/{customer_of[emailed]}/erasure"),
        headers=privacy,
        json={"reason": "the customer's request, ref 4471"},
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["contacts"] == 2
    progress = centre.url("recording", f"/v1/privacy/erasures/{asked.json()['request_id']}")
    report = until(
        "every service done",
        lambda: (
            r
            if (r := loopback.get(progress, headers=privacy).json())["status"] == "complete"
            else None
        ),
    )
    assert set(report["services"]) == {
        "intake",
        "routing",
        "desktop",
        "escalation",
        "dispatch",
        "catalogue",
        "recording",
    }
    assert report["services"]["dispatch"]["erased"]["jobs"] == 1
    assert report["services"]["desktop"]["erased"]["contacts"] >= 1
    assert loopback.get(progress, headers=centre.sign_in("leader")).status_code == 403

    found = _everywhere(centre, [original, name, email, street, said, number, e164, number[1:]])
    assert found == [], "\n".join(found)
    after = loopback.get(
        centre.url("recording", "/v1/kpis"), params=today, headers=centre.operator
    ).json()
    assert after == before
    contact = centre.contact(emailed).json()
    assert contact["customer"] == {"name": None, "email": None, "phone": None}
    assert contact["escalated"] and contact["agent_id"] == centre.agent_id("alice")


def _job(centre: RunningCentre, job_id: str) -> dict[str, Any]:
    answer = loopback.get(centre.url("dispatch", f"/v1/jobs/{job_id}"), headers=centre.operator)
    return dict(answer.json()) if answer.status_code == 200 else {}


def _everywhere(centre: RunningCentre, needles: list[str]) -> list[str]:
    """Where any of `needles` is: each service's tables (every row, read through SQL) and every
    file under the centre's var directory (its database files are those tables)."""
    found = asyncio.run(_in_tables(centre, needles))
    for path in centre.settings.var_dir.rglob("*"):
        if not path.is_file() or ".db" in path.name:
            continue
        text = path.read_bytes().decode("utf-8", "replace").casefold()
        found += [
            f"{path.relative_to(centre.settings.var_dir)}: {n}"
            for n in needles
            if n.casefold() in text
        ]
    return found


async def _in_tables(centre: RunningCentre, needles: list[str]) -> list[str]:
    found = []
    for url in centre.settings.database_urls:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
                for table in tables:
                    rows = await connection.execute(text(f'SELECT * FROM "{table}"'))
                    content = "\n".join(str(tuple(row)) for row in rows).casefold()
                    found += [
                        f"{url.rsplit('/', 1)[-1]} {table}: {n}"
                        for n in needles
                        if n.casefold() in content
                    ]
        finally:
            await engine.dispose()
    return found
