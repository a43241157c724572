"""Who may do what, over every operator endpoint of every service, read from the services' own
OpenAPI documents so a new endpoint joins the matrix by itself: each role gets 403 exactly where
the access rules below say so; another tenant's administrator never sees or changes a thing of
this tenant's (404, and no trace of it in any answer); a forged, expired, revoked or foreign token
is refused (401) by every service; a person signed in at the centre's own OIDC provider is
accepted for the roles it gives them."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.common import operator_tokens, operators
from switchboard.common.db import Database
from switchboard.common.operators import OPERATOR_ROLES
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import OIDC_ISSUER, OIDC_KEY, RunningCentre, until

HOME, OTHER = "initech", "globex"
SERVICES = ("routing", "escalation", "recording", "dispatch", "workforce", "catalogue")
"""The services with an operator API."""


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
    job = httpx.post(
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
    message = httpx.post(
        centre.url("dispatch", "/v1/messages"),
        headers=admin,
        timeout=30,
        json={"kind": "info", "subject": f"Note {mark}", "body": "Hello", "technicians": [tom]},
    )
    assert message.status_code == 201, message.text
    order = httpx.post(
        centre.url("catalogue", "/v1/orders"),
        headers=admin,
        timeout=30,
        json={"contact_id": contact_id, "customer": {"name": f"Pat {mark}"}},
    )
    assert order.status_code == 201, order.text
    products = _get(centre, "catalogue", "/v1/products", admin)["products"]
    forms = _get(centre, "recording", "/v1/quality/forms", admin)
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


def _get(centre: RunningCentre, service: str, path: str, headers: dict[str, str]) -> Any:
    answer = httpx.get(centre.url(service, path), headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- the routes, from each service's OpenAPI ---------------------------------------------------
@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    path_params: tuple[str, ...]
    query: dict[str, str]
    """Required query parameters with a value of the right type."""

    def url(self, centre: RunningCentre, ids: dict[str, str], fallback: str = "none-such") -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", ids.get(name, fallback))
        return centre.url(self.service, path)

    def call(
        self, centre: RunningCentre, headers: dict[str, str], ids: dict[str, str]
    ) -> httpx.Response:
        body = None if self.method in ("GET", "DELETE") else {}
        return httpx.request(
            self.method,
            self.url(centre, ids),
            params=self.query,
            json=body,
            headers=headers,
            timeout=30,
        )


def routes(centre: RunningCentre) -> list[Route]:
    found = []
    for service in SERVICES:
        document = _get(centre, service, "/openapi.json", {})
        for path, operations in document["paths"].items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in operations.items():
                params = operation.get("parameters", [])
                found.append(
                    Route(
                        service,
                        method.upper(),
                        path,
                        tuple(p["name"] for p in params if p["in"] == "path"),
                        {
                            p["name"]: _value(p["name"], p["schema"])
                            for p in params
                            if p["in"] == "query" and p.get("required")
                        },
                    )
                )
    return found


def _value(name: str, schema: dict[str, Any]) -> str:
    """A value of the parameter's type; a period's start a week before its end."""
    kind = schema.get("format") or schema.get("type")
    back = timedelta(days=7 if name in ("from", "start") else 0)
    if kind == "date-time":
        return (datetime.now(UTC).replace(microsecond=0) - back).isoformat()
    if kind == "date":
        return (date.today() - back).isoformat()
    return "1" if kind in ("integer", "number") else "x"


# -- the tests ---------------------------------------------------------------------------------
def test_every_role_is_let_in_exactly_where_the_rules_say(
    tenants: RunningCentre, things: Things
) -> None:
    centre = tenants
    people = {role: centre.sign_in(name) for name, role in _demo_roles(centre).items()}
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
    job = _get(centre, "dispatch", f"/v1/jobs/{things.ids['job_id']}", centre.operator)
    assert job["status"] != "cancelled"


def test_forged_expired_revoked_and_foreign_tokens_are_refused_by_every_service(
    tenants: RunningCentre,
) -> None:
    centre = tenants
    password = centre.add_operator("temp", "read_only")
    temp = centre.sign_in("temp", password=password)
    one_per_service = {
        service: Route(service, "GET", path, (), {})
        for service, path in (
            ("routing", "/v1/queues"),
            ("escalation", "/v1/policies"),
            ("recording", "/v1/quality/forms"),
            ("dispatch", "/v1/technicians"),
            ("workforce", "/v1/intraday"),
            ("catalogue", "/v1/products"),
            ("desktop", "/v1/operators/me"),
        )
    }
    for route in one_per_service.values():
        assert route.call(centre, temp, {}).status_code != 401, route

    account = asyncio.run(_account(centre, "temp"))
    forger = operator_tokens.new_issuer_key()
    forged, _ = operator_tokens.issue(forger, account, lifetime=timedelta(hours=1))
    genuine_key = asyncio.run(_issuer_key(centre))
    expired, _ = operator_tokens.issue(genuine_key, account, lifetime=timedelta(hours=-1))
    foreign = _oidc_token(tenant=HOME, roles=["administrator"], issuer="https://elsewhere.test")
    refused = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "forged": {"Authorization": f"Bearer {forged}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "foreign issuer": {"Authorization": f"Bearer {foreign}"},
    }
    revoked = centre.switchboard("operator", "revoke", "temp", "--tenant", HOME)
    assert revoked.returncode == 0, revoked.stderr
    refused["revoked"] = temp
    for what, headers in refused.items():
        for route in one_per_service.values():
            answer = route.call(centre, headers, {})
            assert answer.status_code == 401, f"{what} token at {route.service}: {answer.text}"
    every = routes(centre)
    assert [r for r in every if r.call(centre, refused["forged"], {}).status_code != 401] == []
    assert "temp" in centre.switchboard("operator", "list", "--tenant", HOME).stdout


def test_a_person_from_the_centres_identity_provider_gets_the_roles_it_gives(
    tenants: RunningCentre,
) -> None:
    centre = tenants
    leader = {"Authorization": f"Bearer {_oidc_token(tenant=HOME, roles=['team_leader'])}"}
    me = httpx.get(centre.url("desktop", "/v1/operators/me"), headers=leader).json()
    assert me == {"person": "jo.idp", "tenant": HOME, "roles": ["team_leader"]}
    assert httpx.get(centre.url("routing", "/v1/queues"), headers=leader).status_code == 200
    dispatch = httpx.post(centre.url("dispatch", "/v1/plan"), headers=leader, json={})
    assert dispatch.status_code == 403 and "dispatcher" in dispatch.text
    stale = _oidc_token(tenant=HOME, roles=["team_leader"], expires_in=-600)
    answer = httpx.get(
        centre.url("routing", "/v1/queues"), headers={"Authorization": f"Bearer {stale}"}
    )
    assert answer.status_code == 401
    no_role = _oidc_token(tenant=HOME, roles=["astronaut"])
    answer = httpx.get(
        centre.url("routing", "/v1/queues"), headers={"Authorization": f"Bearer {no_role}"}
    )
    assert answer.status_code == 403 and "no Switchboard role" in answer.text
    # An account for that person here decides their roles, and revoking it ends their access.
    added = centre.switchboard(
        "operator",
        "add",
        "jo.idp",
        "--tenant",
        HOME,
        "--role",
        "read_only",
        "--oidc-subject",
        "idp|4711",
    )
    assert added.returncode == 0 and "password" not in added.stdout, added.stdout
    assert (
        httpx.put(centre.url("routing", "/v1/routing"), headers=leader, json={}).status_code == 403
    )
    assert centre.switchboard("operator", "revoke", "jo.idp", "--tenant", HOME).returncode == 0
    assert httpx.get(centre.url("routing", "/v1/queues"), headers=leader).status_code == 401


def _demo_roles(centre: RunningCentre) -> dict[str, str]:
    return {name: person["roles"][0] for name, person in centre.operators.items()}


def _oidc_token(
    *, tenant: str, roles: list[str], issuer: str = OIDC_ISSUER, expires_in: int = 600
) -> str:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": issuer,
        "aud": "switchboard-centre",
        "sub": "idp|4711",
        "iat": now,
        "exp": now + expires_in,
        "preferred_username": "jo.idp",
        "switchboard_tenant": tenant,
        "switchboard_roles": roles,
    }
    return jwt.encode({"alg": "ES256", "kid": "idp-1"}, claims, OIDC_KEY)


async def _account(centre: RunningCentre, username: str) -> operators.OperatorAccount:
    db = Database(centre.settings.sqlalchemy_url_for("desktop"))
    try:
        async with db.reader() as session:
            account = await operators.by_username(session, tenant_id=HOME, username=username)
    finally:
        await db.dispose()
    assert account is not None
    return account


async def _issuer_key(centre: RunningCentre) -> operator_tokens.IssuerKey:
    db = Database(centre.settings.sqlalchemy_url_for("desktop"))
    try:
        async with db.reader() as session:
            key = await operator_tokens.newest_issuer_key(session)
    finally:
        await db.dispose()
    assert key is not None
    return key


def test_roles_and_revocation_reach_a_signed_in_person_at_once(tenants: RunningCentre) -> None:
    centre = tenants
    password = centre.add_operator("morgan", "read_only")
    morgan = centre.sign_in("morgan", password=password)
    queues = centre.url("routing", "/v1/routing")
    assert httpx.put(queues, headers=morgan, json={}).status_code == 403
    centre.add_operator("morgan", "team_leader")  # a new password too: the old token ends
    until(
        "the old token refused",
        lambda: httpx.get(queues, headers=morgan).status_code == 401 or None,
    )
    wrong = httpx.post(
        centre.url("desktop", "/v1/operators/session"),
        json={"tenant": HOME, "username": "morgan", "password": password},
    )
    assert wrong.status_code == 401 and "wrong tenant, username or password" in wrong.text


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
    refused = httpx.put(agent_url, json=dee, headers=ours)
    assert refused.status_code == 403 and "overflow agreement" in refused.text
    alice = {"id": centre.agent_id("alice"), "name": "Alice", "tenants": [OTHER]}
    taken = httpx.put(
        centre.url("routing", f"/v1/agents/{alice['id']}"), json=alice, headers=theirs
    )
    assert taken.status_code == 404, "another tenant's agent is not there to change"

    def routing_of(headers: dict[str, str]) -> dict[str, Any]:
        return dict(httpx.get(centre.url("routing", "/v1/routing"), headers=headers).json())

    home = routing_of(ours)
    agreed = httpx.put(
        centre.url("routing", "/v1/routing"),
        headers=ours,
        json={**home, "overflow_partners": [OTHER]},
    )
    assert agreed.status_code == 200, agreed.text
    assert httpx.put(agent_url, json=dee, headers=ours).status_code == 403, "only one side agreed"
    other = routing_of(theirs)
    first = {**other["queues"][0], "overflow": {"after_seconds": 60, "to": [f"{HOME}/general"]}}
    sends = {**other, "queues": [first, *other["queues"][1:]]}
    assert (
        httpx.put(centre.url("routing", "/v1/routing"), headers=theirs, json=sends).status_code
        == 200
    )
    lent = httpx.put(agent_url, json=dee, headers=ours)
    assert lent.status_code == 200 and lent.json()["tenants"] == [HOME, OTHER]
    agents = httpx.get(centre.url("routing", "/v1/agents"), headers=theirs).json()
    assert "dee" in {a["agent_id"] for a in agents}


# -- erasure -----------------------------------------------------------------------------------
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
    merged = httpx.post(
        centre.url("recording", f"/v1/customers/{customer_of[emailed]}/merge"),
        headers=privacy,
        json={"absorb": customer_of[called], "reason": "the same person"},
    )
    assert merged.status_code == 200, merged.text
    # A correction (APP 13) reaches the desktop's and dispatch's copies.
    renamed = f"Quinn Erasmus-Smith {mark}"
    corrected = httpx.post(
        centre.url("recording", f"/v1/customers/{customer_of[emailed]}/corrections"),
        headers=privacy,
        json={"field": "name", "new_value": renamed, "reason": "married name"},
    )
    assert corrected.status_code == 202, corrected.text
    desk_copy = alice.url(f"/v1/contacts/{emailed}")
    until(
        "the desktop's copy corrected",
        lambda: (
            httpx.get(desk_copy, headers=alice.headers).json()["customer_name"] == renamed or None
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
    before = httpx.get(
        centre.url("recording", "/v1/kpis"), params=today, headers=centre.operator
    ).json()

    asked = httpx.post(
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
            if (r := httpx.get(progress, headers=privacy).json())["status"] == "complete"
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
    assert httpx.get(progress, headers=centre.sign_in("leader")).status_code == 403

    found = _everywhere(centre, [original, name, email, street, said, number, e164, number[1:]])
    assert found == [], "\n".join(found)
    after = httpx.get(
        centre.url("recording", "/v1/kpis"), params=today, headers=centre.operator
    ).json()
    assert after == before
    contact = centre.contact(emailed).json()
    assert contact["customer"] == {"name": None, "email": None, "phone": None}
    assert contact["escalated"] and contact["agent_id"] == centre.agent_id("alice")


def _job(centre: RunningCentre, job_id: str) -> dict[str, Any]:
    answer = httpx.get(centre.url("dispatch", f"/v1/jobs/{job_id}"), headers=centre.operator)
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
