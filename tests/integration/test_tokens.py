"""Tokens on every service of a whole centre: a forged, expired, revoked or foreign token is
refused (401) by every service; a person signed in at the centre's own OIDC provider is accepted
for the roles it gives them; a change of roles or a revocation reaches a signed-in person at
once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt

from switchboard.common import operator_tokens, operators
from switchboard.common.db import Database
from tests.integration import loopback
from tests.integration.harness import RunningCentre, until
from tests.integration.routes import Route, routes
from tests.integration.tenants import OIDC_ISSUER, OIDC_KEY

HOME = "stark"


@pytest.fixture(scope="module")
def tenants(centre: RunningCentre) -> RunningCentre:
    """This tenant, as its people see the centre."""
    return centre.new_tenant(HOME)


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
    me = loopback.get(centre.url("desktop", "/v1/operators/me"), headers=leader).json()
    assert me == {"person": "jo.idp", "tenant": HOME, "roles": ["team_leader"]}
    assert loopback.get(centre.url("routing", "/v1/queues"), headers=leader).status_code == 200
    dispatch = loopback.post(centre.url("dispatch", "/v1/plan"), headers=leader, json={})
    assert dispatch.status_code == 403 and "dispatcher" in dispatch.text
    stale = _oidc_token(tenant=HOME, roles=["team_leader"], expires_in=-600)
    answer = loopback.get(
        centre.url("routing", "/v1/queues"), headers={"Authorization": f"Bearer {stale}"}
    )
    assert answer.status_code == 401
    no_role = _oidc_token(tenant=HOME, roles=["astronaut"])
    answer = loopback.get(
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
        loopback.put(centre.url("routing", "/v1/routing"), headers=leader, json={}).status_code
        == 403
    )
    assert centre.switchboard("operator", "revoke", "jo.idp", "--tenant", HOME).returncode == 0
    assert loopback.get(centre.url("routing", "/v1/queues"), headers=leader).status_code == 401


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
    assert loopback.put(queues, headers=morgan, json={}).status_code == 403
    centre.add_operator("morgan", "team_leader")  # a new password too: the old token ends
    until(
        "the old token refused",
        lambda: loopback.get(queues, headers=morgan).status_code == 401 or None,
    )
    wrong = loopback.post(
        centre.url("desktop", "/v1/operators/session"),
        json={"tenant": HOME, "username": "morgan", "password": password},
    )
    assert wrong.status_code == 401 and "wrong tenant, username or password" in wrong.text
