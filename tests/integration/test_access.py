"""Who may do what, over every operator endpoint of every service, read from the services' own
OpenAPI documents so a new endpoint joins the matrix by itself: each role gets 403 exactly where
the access rules below say so; another tenant's administrator never sees or changes a thing of
this tenant's (404, and no trace of it in any answer); an agent serves another tenant only under
a written overflow agreement. Tokens are `test_tokens.py`'s, erasure `test_erasure.py`'s."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.common.operators import OPERATOR_ROLES
from tests.integration import loopback
from tests.integration.harness import RunningCentre
from tests.integration.routes import demo_roles, get_json, routes

HOME, OTHER = "initech", "globex"


# -- the access rules, as an operator reads them in the READMEs --------------------------------
def allowed(service: str, method: str, path: str) -> set[str]:
    """The roles (besides the administrator, who may do everything) a route lets in."""
    reading = method == "GET"
    everyone = set(OPERATOR_ROLES)
    if service in ("routing", "escalation", "workforce"):
        return everyone if reading else {"team_leader"}
    if service == "dispatch":
        return {"dispatcher", "team_leader"} if reading else {"dispatcher"}
    if service == "catalogue":
        if path.startswith(("/v1/orders", "/v1/retention")):
            return {"team_leader"}
        if reading:
            return everyone
        if path in ("/v1/knowledge/suggest", "/v1/knowledge/articles/{article_id}/used"):
            return {"team_leader"}
        return set()
    return _recording(method, path)


def _recording(method: str, path: str) -> set[str]:
    analysts, leaders = {"quality_analyst"}, {"team_leader"}
    if path.startswith("/v1/quality/"):
        if path == "/v1/quality/forms" or (method == "GET" and path.startswith("/v1/quality/scor")):
            return set(OPERATOR_ROLES) if path == "/v1/quality/forms" else analysts | leaders
        if path.startswith(("/v1/quality/coaching", "/v1/quality/feedback")):
            reads = analysts | leaders if path.startswith("/v1/quality/coaching") else leaders
            return reads if method == "GET" else leaders
        if method == "GET" and path != "/v1/quality/contacts/{contact_id}":
            return analysts | leaders
        return analysts
    if path == "/v1/kpis":
        return set(OPERATOR_ROLES)
    if path.startswith(("/v1/retention", "/v1/privacy")) or path.endswith(
        ("/merge", "/corrections", "/erasure")
    ):
        return {"privacy_officer"}
    if path.endswith("/survey"):
        return {"team_leader"}
    return {"team_leader", "privacy_officer"}


# -- two tenants of the shared centre --------------------------------------------------------
@pytest.fixture(scope="module")
def tenants(centre: RunningCentre) -> RunningCentre:
    """This tenant, as its people see the centre; the other tenant is added beside it."""
    centre.new_tenant(OTHER)
    return centre.new_tenant(HOME, edit=_round_the_clock)


def _round_the_clock(config: dict[str, Any]) -> None:
    """Technicians on shift at any hour, so the erasure's job is despatched whenever the test runs."""
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for technician in config["technicians"]:
        technician["shifts"] = [{"days": every_day, "open": "00:00", "close": "24:00"}]


@dataclass
class Things:
    """Real objects of the home tenant, by the name of the path parameter that names them."""

    ids: dict[str, str]
    ours: frozenset[str]
    """The parameters whose values only this tenant has (team names, products and forms are each
    tenant's own namespace: the other tenant may have its own of the same name)."""
    markers: list[str]
    """What must never appear in an answer to the other tenant."""


@pytest.fixture(scope="module")
def things(tenants: RunningCentre) -> Things:
    centre = tenants
    admin = centre.operator
    mark = secrets.token_hex(4)
    tom = f"tom-{HOME}"
    email = f"leak-{mark}@customer.example"
    raw = centre.email(subject=f"Meter {mark}", body=f"My meter {mark} is broken.", From=email)
    contact_id = centre.post_email(raw).json()["contact_id"]
    contact = centre.wait_contact(contact_id)
    start = datetime.now(UTC)
    job = loopback.post(
        centre.url("dispatch", "/v1/jobs"),
        headers=admin,
        timeout=30,
        json={
            "customer": {"name": f"Pat {mark}", "phone": "+61412345678"},
            "site": {"address": f"{mark} Test Street", "lat": -33.87, "lon": 151.21},
            "work_type": "meter fault",
            "skills": ["meters"],
            "estimated_minutes": 60,
            "window": {"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat()},
        },
    )
    assert job.status_code == 201, job.text
    message = loopback.post(
        centre.url("dispatch", "/v1/messages"),
        headers=admin,
        timeout=30,
        json={"kind": "info", "subject": f"Note {mark}", "body": "Hello", "technicians": [tom]},
    )
    assert message.status_code == 201, message.text
    order = loopback.post(
        centre.url("catalogue", "/v1/orders"),
        headers=admin,
        timeout=30,
        json={"contact_id": contact_id, "customer": {"name": f"Pat {mark}"}},
    )
    assert order.status_code == 201, order.text
    products = get_json(centre, "catalogue", "/v1/products", admin)["products"]
    forms = get_json(centre, "recording", "/v1/quality/forms", admin)
    ids = {
        "contact_id": contact_id,
        "customer_id": contact["customer_id"],
        "job_id": job.json()["job_id"],
        "message_id": message.json()["message_id"],
        "order_id": order.json()["order_id"],
        "agent_id": centre.agent_id("alice"),
        "technician_id": tom,
        "product_id": products[0]["id"],
        "form_id": forms[0]["form_id"],
        "team": "red",
    }
    markers = [
        email,
        mark,
        contact_id,
        contact["customer_id"],
        ids["job_id"],
        ids["message_id"],
        ids["order_id"],
        HOME,
    ]
    unique = frozenset(
        {
            "contact_id",
            "customer_id",
            "job_id",
            "message_id",
            "order_id",
            "agent_id",
            "technician_id",
        }
    )
    return Things(ids, unique, markers)


def test_every_role_is_let_in_exactly_where_the_rules_say(
    tenants: RunningCentre, things: Things
) -> None:
    centre = tenants
    people = {role: centre.sign_in(name) for name, role in demo_roles(centre).items()}
    assert set(people) == set(OPERATOR_ROLES)
    wrong, refusals = [], 0
    every = routes(centre)
    assert len(every) >= 90, "every service's operator API is in the matrix"
    for route in every:
        # Reads of real objects show a role's refusal after the look-up; writes are tried on
        # objects that do not exist, so an allowed role changes nothing.
        ids = things.ids if route.method == "GET" else {}
        looked_up_first = route.method == "GET" and any(
            p not in things.ids for p in route.path_params
        )
        for role, headers in people.items():
            status = route.call(centre, headers, ids).status_code
            refused = role != "administrator" and role not in allowed(
                route.service, route.method, route.path
            )
            ok = status in (403, 404) if refused and looked_up_first else (status == 403) == refused
            if not ok or status in (401, 500):
                wrong.append(f"{role} {route.method} {route.service}{route.path}: {status}")
            refusals += status == 403
    assert wrong == []
    assert len(every) * 2 < refusals < len(every) * (len(OPERATOR_ROLES) - 1)


def test_another_tenants_administrator_finds_nothing_of_ours(
    tenants: RunningCentre, things: Things
) -> None:
    centre = tenants
    boss = centre.sign_in(
        "boss", tenant=OTHER, password=centre.add_operator("boss", "administrator", tenant=OTHER)
    )
    leaks = []
    for route in routes(centre):
        answer = route.call(centre, boss, things.ids)
        text = answer.text.casefold()
        seen = [m for m in things.markers if m.casefold() in text]
        ours = any(p in things.ours for p in route.path_params)
        if seen or answer.status_code >= 500 or (ours and answer.status_code < 400):
            leaks.append(f"{route.method} {route.service}{route.path}: {answer.status_code} {seen}")
        if ours and route.method == "GET" and answer.status_code != 404:
            leaks.append(
                f"{route.method} {route.service}{route.path}: {answer.status_code}, not 404"
            )
    assert leaks == []
    # and what we wrote is as we left it
    job = get_json(centre, "dispatch", f"/v1/jobs/{things.ids['job_id']}", centre.operator)
    assert job["status"] != "cancelled"


def test_an_agent_serves_another_tenant_only_under_the_written_overflow_agreement(
    tenants: RunningCentre,
) -> None:
    centre = tenants
    ours = centre.operator
    theirs = centre.sign_in(
        "lender", tenant=OTHER, password=centre.add_operator("lender", "team_leader", tenant=OTHER)
    )
    dee = {"id": "dee", "name": "Dee", "tenants": [HOME, OTHER], "skills": {"faults": 4}}
    agent_url = centre.url("routing", "/v1/agents/dee")
    refused = loopback.put(agent_url, json=dee, headers=ours)
    assert refused.status_code == 403 and "overflow agreement" in refused.text
    alice = {"id": centre.agent_id("alice"), "name": "Alice", "tenants": [OTHER]}
    taken = loopback.put(
        centre.url("routing", f"/v1/agents/{alice['id']}"), json=alice, headers=theirs
    )
    assert taken.status_code == 404, "another tenant's agent is not there to change"

    def routing_of(headers: dict[str, str]) -> dict[str, Any]:
        return dict(loopback.get(centre.url("routing", "/v1/routing"), headers=headers).json())

    home = routing_of(ours)
    agreed = loopback.put(
        centre.url("routing", "/v1/routing"),
        headers=ours,
        json={**home, "overflow_partners": [OTHER]},
    )
    assert agreed.status_code == 200, agreed.text
    assert loopback.put(agent_url, json=dee, headers=ours).status_code == 403, (
        "only one side agreed"
    )
    other = routing_of(theirs)
    first = {**other["queues"][0], "overflow": {"after_seconds": 60, "to": [f"{HOME}/general"]}}
    sends = {**other, "queues": [first, *other["queues"][1:]]}
    assert (
        loopback.put(centre.url("routing", "/v1/routing"), headers=theirs, json=sends).status_code
        == 200
    )
    lent = loopback.put(agent_url, json=dee, headers=ours)
    assert lent.status_code == 200 and lent.json()["tenants"] == [HOME, OTHER]
    agents = loopback.get(centre.url("routing", "/v1/agents"), headers=theirs).json()
    assert "dee" in {a["agent_id"] for a in agents}


# -- erasure -----------------------------------------------------------------------------------
