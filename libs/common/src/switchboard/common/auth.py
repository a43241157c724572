"""Operator access to the service APIs: `Authorization: Bearer TOKEN`, scoped to one tenant.

Only the SHA-256 of a token is stored. A request without a valid token gets 401 with the reason.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from fastapi import HTTPException, Request
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
    """FastAPI dependency: who the request's bearer token belongs to, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.reader() as session:
        row = await session.get(ApiToken, digest(token.strip()))
    if row is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return Operator(row.tenant_id, row.label or f"token {row.token_sha256[:8]}")
