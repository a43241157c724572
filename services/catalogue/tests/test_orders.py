"""Orders through the API on SQLite and PostgreSQL: an installation becomes a field job; a credit
check that fails blocks its order; a discount over the agent's limit waits for a team leader (not
the author, and within their own limit); eligibility; a card number never kept or echoed;
retention offers that fit; CSV imports as product versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from switchboard.catalogue import handlers
from switchboard.common.envelope import Envelope
from switchboard.common.events.dispatch import JobStatusChanged

Running = Any
CARD = "4111 1111 1111 1111"
SITE = {"address": "1 George St, Sydney NSW 2000", "lat": -33.86, "lon": 151.21}


def _window(days: int = 2) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()}


async def _order(running: Running, who: dict[str, str], **customer: Any) -> str:
    body = {
        "contact_id": running.contact,
        "customer": {"name": "Pat Lee", "phone": "+61400111222", "state": "NSW", **customer},
    }
    return str((await running.ok("POST", "/v1/orders", who, json=body))["order_id"])


async def _everything_stored(running: Running) -> str:
    """Every row of every table, as text."""
    async with running.runtime.db.engine.connect() as connection:
        if running.runtime.db.is_postgres:
            names = (
                (
                    await connection.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                )
                .scalars()
                .all()
            )
        else:
            names = (
                (
                    await connection.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'table'")
                    )
                )
                .scalars()
                .all()
            )
        dumped = []
        for name in names:
            rows = await connection.execute(text(f'SELECT * FROM "{name}"'))
            dumped.extend(repr(tuple(row)) for row in rows.all())
    return "\n".join(dumped)


async def test_an_installation_is_a_field_job_and_the_card_only_a_token(running: Running) -> None:
    amy = running.person("amy")
    order_id = await _order(running, amy)
    url = f"/v1/orders/{order_id}"
    view = await running.ok("PUT", f"{url}/lines", amy, json={"lines": [{"product_id": "meter"}]})
    assert (view["total_cents"], view["needs"]["installation"]) == (9900, True)
    assert "book the installation (a date window and the site)" in view["blockers"]
    blocked = await running.refused(
        "POST", f"{url}/place", amy, 409, json={"customer_agreed": True, "statement": "read"}
    )
    assert "choose how the customer pays" in blocked
    await running.ok(
        "PUT",
        f"{url}/supply",
        amy,
        json={"method": "installation", "window": _window(), "site": SITE},
    )
    # Bad card details are refused without the number in the answer.
    for card, reason in (
        ({"number": "4111 1111 1111 1112", "expiry": "12/30"}, "not a valid"),
        ({"number": CARD, "expiry": "01/20"}, "expired"),
        ({"number": CARD, "expiry": "12/30", "security_code": "12x"}, "pattern"),
    ):
        answer = await running.refused(
            "POST",
            f"{url}/payment",
            amy,
            422,
            json={"method": "card", "card": {"name": "P Lee", **card}},
        )
        assert reason in answer and "4111" not in answer and "1111" not in answer
    view = await running.ok(
        "POST",
        f"{url}/payment",
        amy,
        json={
            "method": "card",
            "card": {"number": CARD, "expiry": "12/30", "name": "P Lee", "security_code": "123"},
        },
    )
    assert view["payment"]["brand"] == "visa" and view["payment"]["last4"] == "1111"
    assert view["payment"]["token"].startswith("tok_") and view["blockers"] == []
    placed = await running.ok(
        "POST",
        f"{url}/place",
        amy,
        json={"customer_agreed": True, "statement": "Meter $99, paid by card."},
    )
    assert placed["status"] == "placed" and placed["agreement"]["by"] == "agent amy"
    jobs = await running.emitted("job.requested")
    assert len(jobs) == 1 and jobs[0]["contact_id"] == running.contact
    job = jobs[0]["payload"]
    assert (job["job_id"], job["work_type"], job["skills"]) == (
        placed["job_id"],
        "meter-install",
        ["meters"],
    )
    assert job["site"]["address"] == SITE["address"] and job["payment"]["method"] == "card"
    assert [e["payload"]["status"] for e in await running.emitted("order.status")][-1] == "placed"
    await running.refused("POST", f"{url}/cancel", amy, 409)
    # Nowhere: not the number (with or without spaces) nor the security code next to it.
    stored = await _everything_stored(running)
    assert CARD.replace(" ", "") not in stored and CARD not in stored
    assert "security_code" not in stored
    # The job's status comes back from dispatch onto the order.
    changed = JobStatusChanged(
        job_id=placed["job_id"],
        status="despatched",
        previous="created",
        work_type="meter-install",
        priority="normal",
    )
    async with running.runtime.transaction() as tx:
        await handlers.on_job_status(
            Envelope.first(changed, tenant_id="acme", aggregate_id=placed["job_id"]), tx
        )
    assert (await running.ok("GET", url, amy))["job_status"] == "despatched"


async def test_a_failed_credit_check_blocks_its_order(running: Running) -> None:
    amy = running.person("amy")
    order_id = await _order(running, amy)
    url = f"/v1/orders/{order_id}"
    line = {"product_id": "battery", "plan_id": "b24"}
    view = await running.ok("PUT", f"{url}/lines", amy, json={"lines": [line]})
    assert view["status"] == "awaiting_credit_check"
    assert view["credit_exposure_cents"] == 99000 + 34900 * 24
    await running.ok("POST", f"{url}/payment", amy, json={"method": "invoice"})
    blocked = await running.refused(
        "POST", f"{url}/place", amy, 409, json={"customer_agreed": True, "statement": "read"}
    )
    assert "run a credit check" in blocked
    applicant = {
        "name": "Pat Lee",
        "address": SITE["address"],
        "date_of_birth": (date.today() - timedelta(days=365 * 17)).isoformat(),
    }
    view = await running.ok("POST", f"{url}/credit-check", amy, json=applicant)
    assert view["status"] == "credit_declined"
    assert view["credit"]["reason"] == "the applicant is under 18"
    assert view["credit"]["reference"].startswith("SB-")
    blocked = await running.refused(
        "POST", f"{url}/place", amy, 409, json={"customer_agreed": True, "statement": "read"}
    )
    assert "the credit check was declined: the applicant is under 18" in blocked
    declined = (await running.emitted("order.status"))[-1]["payload"]
    assert (declined["status"], declined["credit_decision"]) == ("credit_declined", "declined")
    # An adult: still over the stand-in's limit of $3,000 over the contract; paid outright it fits.
    applicant["date_of_birth"] = "1980-05-01"
    view = await running.ok("POST", f"{url}/credit-check", amy, json=applicant)
    assert view["credit"]["reason"] == "the amount is over the credit available"
    await running.ok(
        "PUT", f"{url}/lines", amy, json={"lines": [{"product_id": "green", "plan_id": "monthly"}]}
    )
    view = await running.ok(
        "POST", f"{url}/payment", amy, json={"method": "payment_plan", "instalments": 6}
    )
    assert view["needs"]["credit_check"] is True  # a payment plan is credit too
    view = await running.ok("POST", f"{url}/credit-check", amy, json=applicant)
    assert (view["credit"]["decision"], view["status"], view["blockers"]) == (
        "approved",
        "draft",
        [],
    )
    assert (
        await running.ok(
            "POST", f"{url}/place", amy, json={"customer_agreed": True, "statement": "read"}
        )
    )["status"] == "placed"


async def test_a_discount_over_the_limit_waits_for_a_team_leader(running: Running) -> None:
    amy, tl, tl2 = (
        running.person("amy"),
        running.person("tl", "team_leader"),
        running.person("tl2", "team_leader"),
    )
    order_id = await _order(running, amy)
    url = f"/v1/orders/{order_id}"
    lines = {
        "lines": [{"product_id": "monitor", "quantity": 2}],
        "discount_percent": 15,
        "discount_reason": "loyal customer",
    }
    view = await running.ok("PUT", f"{url}/lines", amy, json=lines)
    assert (view["status"], view["total_cents"]) == ("awaiting_approval", round(29800 * 0.85))
    await running.ok("PUT", f"{url}/supply", amy, json={"method": "delivery", "window": _window()})
    await running.ok(
        "POST",
        f"{url}/payment",
        amy,
        json={
            "method": "direct_debit",
            "direct_debit": {
                "account_name": "P Lee",
                "bsb": "062-000",
                "account_number": "12345678",
            },
        },
    )
    blocked = await running.refused(
        "POST", f"{url}/place", amy, 409, json={"customer_agreed": True, "statement": "read"}
    )
    assert "a team leader approves the 15% discount" in blocked
    await running.refused("POST", f"{url}/approve", amy, 403)
    waiting = await running.ok("GET", "/v1/orders", tl, params={"status": "awaiting_approval"})
    assert [o["order_id"] for o in waiting["orders"]] == [order_id]
    assert (await running.ok("GET", "/v1/orders", running.person("bob")))["orders"] == []
    await running.refused("GET", url, running.person("bob"), 404)
    view = await running.ok("POST", f"{url}/approve", tl)
    assert view["approval"]["by"] == "agent tl" and view["status"] == "draft"
    placed = await running.ok(
        "POST", f"{url}/place", amy, json={"customer_agreed": True, "statement": "read"}
    )
    assert placed["payment"]["account_last3"] == "678"
    assert "12345678" not in await _everything_stored(running)
    # A team leader's own 40%: not by themselves, not by another team leader (30% limit), but by
    # an administrator.
    own = await _order(running, tl)
    await running.ok("PUT", f"/v1/orders/{own}/lines", tl, json={**lines, "discount_percent": 40})
    assert "nobody approves their own" in await running.refused(
        "POST", f"/v1/orders/{own}/approve", tl, 422
    )
    assert "over your limit" in await running.refused("POST", f"/v1/orders/{own}/approve", tl2, 422)
    assert (await running.ok("POST", f"/v1/orders/{own}/approve", running.admin))["approval"]


async def test_eligibility_and_another_tenants_orders(running: Running) -> None:
    amy = running.person("amy")
    business = await _order(running, amy, type="business")
    assert "for residential customers" in await running.refused(
        "PUT",
        f"/v1/orders/{business}/lines",
        amy,
        422,
        json={"lines": [{"product_id": "battery", "plan_id": "b24"}]},
    )
    victoria = await _order(running, amy, state="VIC")
    assert "sold in NSW, ACT only" in await running.refused(
        "PUT",
        f"/v1/orders/{victoria}/lines",
        amy,
        422,
        json={"lines": [{"product_id": "battery", "plan_id": "b24"}]},
    )
    assert "choose a plan" in await running.refused(
        "PUT", f"/v1/orders/{victoria}/lines", amy, 422, json={"lines": [{"product_id": "green"}]}
    )
    await running.refused(
        "GET", f"/v1/orders/{victoria}", running.person("gus", tenant="globex"), 404
    )


async def test_retention_offers_that_fit_and_the_answer_recorded(running: Running) -> None:
    amy = running.person("amy")
    rules = await running.ok("GET", "/v1/retention", amy, params={"queue_id": "retention"})
    assert rules["cancellation"] is True and "price" in rules["reasons"]
    soon = (date.today() + timedelta(days=30)).isoformat()
    fits = await running.ok(
        "POST",
        "/v1/retention/suggest",
        amy,
        json={"reason": "price", "tenure_months": 36, "monthly_value": "80", "contract_ends": soon},
    )
    assert [o["id"] for o in fits["offers"]] == ["loyalty", "recontract"]
    new = await running.ok(
        "POST",
        "/v1/retention/suggest",
        amy,
        json={"reason": "price", "tenure_months": 3, "monthly_value": "80"},
    )
    assert new["offers"] == []
    made = {
        "contact_id": running.contact,
        "reason": "moving",
        "tenure_months": 5,
        "monthly_value": "60",
        "offer_id": "moving",
        "answer": "accepted",
    }
    assert (await running.ok("POST", "/v1/retention/offers", amy, json=made))[
        "answer"
    ] == "accepted"
    assert "does not fit" in await running.refused(
        "POST", "/v1/retention/offers", amy, 422, json={**made, "offer_id": "loyalty"}
    )
    events = await running.emitted("retention.offered")
    assert [(e["contact_id"], e["payload"]["answer"]) for e in events] == [
        (running.contact, "accepted")
    ]


async def test_a_csv_import_makes_versions_and_orders_keep_theirs(running: Running) -> None:
    amy = running.person("amy")
    order_id = await _order(running, amy)
    await running.ok(
        "PUT", f"/v1/orders/{order_id}/lines", amy, json={"lines": [{"product_id": "monitor"}]}
    )
    csv = (
        "id,name,price,plans,features,delivery\n"
        "monitor,Energy monitor,169.00,,Live cost;App,yes\n"
        "heater,Panel heater,300.00,h12:12 months:25.00:12,,no\n"
    )
    counts = await running.ok(
        "POST", "/v1/catalogue/import", running.admin, content=csv, content_type="text/csv"
    )
    assert counts["products"] == {"new_versions": 2, "unchanged": 0}
    again = await running.ok(
        "POST", "/v1/catalogue/import", running.admin, content=csv, content_type="text/csv"
    )
    assert again["products"] == {"new_versions": 0, "unchanged": 2}
    monitor = await running.ok("GET", "/v1/products/monitor", amy)
    assert (monitor["version"], monitor["price"], len(monitor["versions"])) == (2, "169.00", 2)
    order = await running.ok("GET", f"/v1/orders/{order_id}", amy)
    assert (order["lines"][0]["version"], order["total_cents"]) == (1, 14900)
    bad = "id,name,plans\nx,X,nonsense\n"
    assert "line 2" in await running.refused(
        "POST", "/v1/catalogue/import", running.admin, 422, content=bad, content_type="text/csv"
    )
    await running.refused(
        "POST", "/v1/catalogue/import", amy, 403, content=csv, content_type="text/csv"
    )
    sold = await running.ok("GET", "/v1/products", amy, params={"queue_id": "general"})
    assert {p["id"] for p in sold["products"]} >= {"meter", "heater", "monitor"}
