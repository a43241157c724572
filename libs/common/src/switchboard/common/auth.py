"""Operator access to the service APIs: `Authorization: Bearer TOKEN`, scoped to one tenant.

Only the SHA-256 of a token is stored. A request without a valid token gets 401 with the reason.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import utcnow
from switchboard.common.runtime import Runtime


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


async def operator_tenant(request: Request) -> str:
    """FastAPI dependency: the tenant the request's bearer token gives access to, or 401."""
    return (await operator(request)).tenant_id


async def operator(request: Request) -> Operator:
    """FastAPI dependency: who the request's bearer token belongs to, or 401 (a gateway's token
    is not an operator's: it acts only for the people it names, where `actor` is asked)."""
    row = await _token_row(request)
    if row.role == GATEWAY_ROLE:
        raise HTTPException(401, "a gateway's token is not an operator's",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return Operator(row.tenant_id, _holder(row))


async def _token_row(request: Request) -> ApiToken:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.reader() as session:
        row = await session.get(ApiToken, digest(token.strip()))
    if row is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return row


def _holder(row: ApiToken) -> str:
    return row.label or f"token {row.token_sha256[:8]}"


# -- the desktop acting for a signed-in person ---------------------------------------------------

GATEWAY_ROLE = "gateway"
TENANT_HEADER = "X-Switchboard-Tenant"
AGENT_HEADER = "X-Switchboard-Agent"
ROLES_HEADER = "X-Switchboard-Roles"
ROLES = frozenset({"administrator", "team_leader", "quality_analyst", "agent"})


async def grant_gateway(session: AsyncSession, *, token: str, label: str) -> None:
    """Store `token` (hashed) as a gateway's: it may act for the people it has signed in, naming
    each request's tenant, person and roles in headers."""
    if await session.get(ApiToken, digest(token)) is None:
        session.add(ApiToken(token_sha256=digest(token), tenant_id="*", role=GATEWAY_ROLE,
                             label=label))  # fmt: skip


@dataclass(frozen=True)
class Actor:
    """Who is asking: an operator token's holder (an administrator of its tenant), or a person the
    desktop signed in, with their roles."""

    tenant_id: str
    person: str
    agent_id: str | None
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return "administrator" in self.roles or bool(self.roles & set(roles))


async def actor(request: Request) -> Actor:
    """FastAPI dependency: an operator token (401 without a valid one), or the gateway's token
    with the person it acts for."""
    row = await _token_row(request)
    if row.role != GATEWAY_ROLE:
        return Actor(row.tenant_id, _holder(row), None, frozenset({"administrator"}))
    tenant, agent = request.headers.get(TENANT_HEADER), request.headers.get(AGENT_HEADER)
    roles = frozenset(r for r in request.headers.get(ROLES_HEADER, "").split(",") if r)
    if not tenant or not agent or not roles or not roles <= ROLES - {"administrator"}:
        raise HTTPException(401, f"a gateway names the {TENANT_HEADER}, {AGENT_HEADER} and "
                                 f"{ROLES_HEADER} it acts for")  # fmt: skip
    return Actor(tenant, f"agent {agent}", agent, roles)


Who = Annotated[Actor, Depends(actor)]
"""FastAPI parameter type: who is asking (see `actor`)."""


def allow(who: Actor, *roles: str) -> None:
    """403 unless `who` holds one of `roles` (an administrator holds every one)."""
    if not who.has(*roles):
        raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")
