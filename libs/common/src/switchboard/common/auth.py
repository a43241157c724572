"""Who may call the service APIs: `Authorization: Bearer TOKEN`, scoped to one tenant.

The token is a person's, signed in (`operator_tokens`: checked against their account on every
request), an operator token granted to a tenant (kept for scripts and the demo's administrator;
only its SHA-256 is stored), or the desktop's gateway token acting for an agent it signed in.
No valid token: 401 with the reason; a missing role: 403 naming the roles it needs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import operators
from switchboard.common.envelope import utcnow
from switchboard.common.operator_tokens import (
    ISSUER,
    InvalidOperatorToken,
    TokenVerifier,
    looks_like_jwt,
)
from switchboard.common.operators import OPERATOR_ROLES, OperatorAccount
from switchboard.common.runtime import runtime_of


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    token_sha256: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    role: str = Field(default="operator", max_length=32)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def grant(session: AsyncSession, *, token: str, tenant_id: str, label: str) -> None:
    """Store `token` (hashed) as an operator token of `tenant_id`; granting it again is a no-op."""
    if await session.get(ApiToken, digest(token)) is None:
        session.add(ApiToken(token_sha256=digest(token), tenant_id=tenant_id, label=label))


@dataclass(frozen=True)
class Operator:
    tenant_id: str
    label: str
    """Who holds the token, as granted (for audit trails)."""


async def operator(request: Request) -> Operator:
    """FastAPI dependency: who the request's bearer token belongs to, or 401 (a gateway's token
    is not an operator's: it acts only for the people it names, where `actor` is asked). The
    token is checked once a request, however many dependencies ask."""
    who = await _cached_actor(request)
    if who.agent_id is not None:
        raise HTTPException(
            401, "a gateway's token is not an operator's", headers={"WWW-Authenticate": "Bearer"}
        )
    return Operator(who.tenant_id, who.person)


async def operator_tenant(request: Request) -> str:
    """FastAPI dependency: the tenant the request's bearer token gives access to, or 401."""
    return (await operator(request)).tenant_id


async def _cached_actor(request: Request) -> Actor:
    found: Actor | None = getattr(request.state, "actor", None)
    if found is None:
        found = request.state.actor = await _actor(request)
    return found


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("missing bearer token")
    return token.strip()


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


async def _token_row(request: Request, token: str) -> ApiToken:
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        row = await session.get(ApiToken, digest(token))
    if row is None:
        raise _unauthorised("unknown or revoked token")
    return row


async def _signed_in(request: Request, token: str) -> Actor:
    """A person's signed-in token (ours or the OIDC provider's), checked against their account."""
    runtime = runtime_of(request)
    verifier = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        verifier = request.app.state.token_verifier = TokenVerifier(runtime.settings)
    async with runtime.db.reader() as session:
        try:
            token_of = await verifier.verify(session, token)
        except InvalidOperatorToken as error:
            raise _unauthorised(str(error)) from error
        if token_of.issuer == ISSUER:
            account = await session.get(OperatorAccount, token_of.subject)
        else:
            account = await operators.by_oidc_subject(session, subject=token_of.subject)
    if account is not None:
        if account.revoked_at is not None:
            raise _unauthorised("this person's access has been revoked")
        if token_of.issued_at < account.tokens_valid_after.replace(tzinfo=UTC):
            raise _unauthorised("token revoked: sign in again")
        if account.tenant_id != token_of.tenant_id:
            raise _unauthorised("the token's tenant is not the person's")
        return Actor(
            account.tenant_id, account.username, None, frozenset(account.roles), account.operator_id
        )
    if token_of.issuer == ISSUER:
        raise _unauthorised("no such operator any more")
    if not token_of.roles:
        raise HTTPException(403, "the identity provider gave this person no Switchboard role")
    return Actor(token_of.tenant_id, token_of.person, None, token_of.roles, None)


def _holder(row: ApiToken) -> str:
    return row.label or f"token {row.token_sha256[:8]}"


# -- the desktop acting for a signed-in person ---------------------------------------------------

GATEWAY_ROLE = "gateway"
TENANT_HEADER = "X-Switchboard-Tenant"
AGENT_HEADER = "X-Switchboard-Agent"
ROLES_HEADER = "X-Switchboard-Roles"
GATEWAY_ROLES = frozenset({"team_leader", "quality_analyst", "agent"})
"""What the desktop may say of a person it signed in (never `administrator`)."""


async def grant_gateway(session: AsyncSession, *, token: str, label: str) -> None:
    """Store `token` (hashed) as a gateway's: it may act for the people it has signed in, naming
    each request's tenant, person and roles in headers."""
    if await session.get(ApiToken, digest(token)) is None:
        session.add(
            ApiToken(token_sha256=digest(token), tenant_id="*", role=GATEWAY_ROLE, label=label)
        )


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in operator with their account's roles, an operator token's holder
    (an administrator of its tenant), or an agent the desktop signed in, with their roles."""

    tenant_id: str
    person: str
    """Who, by name, for audit trails: an operator's username, `agent <id>`, or a token's label."""
    agent_id: str | None
    roles: frozenset[str]
    operator_id: str | None = None

    def has(self, *roles: str) -> bool:
        return "administrator" in self.roles or bool(self.roles & set(roles))


async def actor(request: Request) -> Actor:
    """FastAPI dependency: a person's signed-in token, an operator token (401 without a valid
    one), or the gateway's token with the person it acts for."""
    return await _cached_actor(request)


async def _actor(request: Request) -> Actor:
    token = _bearer(request)
    if looks_like_jwt(token):
        return await _signed_in(request, token)
    row = await _token_row(request, token)
    if row.role != GATEWAY_ROLE:
        return Actor(row.tenant_id, _holder(row), None, frozenset({"administrator"}))
    tenant, agent = request.headers.get(TENANT_HEADER), request.headers.get(AGENT_HEADER)
    roles = frozenset(r for r in request.headers.get(ROLES_HEADER, "").split(",") if r)
    if not tenant or not agent or not roles or not roles <= GATEWAY_ROLES:
        raise HTTPException(
            401,
            f"a gateway names the {TENANT_HEADER}, {AGENT_HEADER} and {ROLES_HEADER} it acts for",
        )
    return Actor(tenant, f"agent {agent}", agent, roles)


Who = Annotated[Actor, Depends(actor)]
"""FastAPI parameter type: who is asking (see `actor`)."""


def allow(who: Actor, *roles: str) -> None:
    """403 unless `who` holds one of `roles` (an administrator holds every one)."""
    if not who.has(*roles):
        raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")


EVERYONE = (*OPERATOR_ROLES, "agent")
"""Anyone of the tenant who is signed in, agents included."""
OPERATORS = OPERATOR_ROLES
"""Any operator of the tenant, read-only included."""


def may(*roles: str) -> Any:
    """A route's dependency: 403 unless the person holds one of `roles` (see `allow`)."""

    async def check(who: Who) -> None:
        allow(who, *roles)

    return Depends(check)


def policy(*, read: tuple[str, ...], write: tuple[str, ...]) -> Any:
    """A router's dependency: GET needs one of `read`, any other method one of `write`."""

    async def check(request: Request, who: Who) -> None:
        allow(who, *(read if request.method in ("GET", "HEAD") else write))

    return Depends(check)
