"""Operators sign in here: the centre's front door gives a person a token (a JWT signed with the
centre's key) that every service's API accepts for what their roles allow, until it expires or
their access is revoked (`switchboard operator revoke`)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from switchboard.common import operator_tokens, operators
from switchboard.common.auth import Who
from switchboard.common.passwords import verify_password
from switchboard.common.runtime import runtime_of

router = APIRouter(prefix="/v1/operators", tags=["operators"])
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 300.0


class OperatorSignIn(BaseModel):
    tenant: str = Field(min_length=1, max_length=64)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class Throttle:
    """Five wrong passwords for one person within five minutes, and their sign-in waits (429)."""

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, key: tuple[str, str]) -> None:
        recent = self.failures[key]
        while recent and recent[0] < time.monotonic() - FAILURE_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= FAILURES_ALLOWED:
            wait = int(recent[0] + FAILURE_WINDOW_SECONDS - time.monotonic()) + 1
            raise HTTPException(
                429, "too many wrong passwords: try again later", headers={"Retry-After": str(wait)}
            )

    def failed(self, key: tuple[str, str]) -> None:
        self.failures[key].append(time.monotonic())


throttle = Throttle()


@router.post("/session")
async def sign_in(body: OperatorSignIn, request: Request) -> dict[str, Any]:
    """A token for the person, valid for `SWITCHBOARD_OPERATOR_TOKEN_HOURS`; 401 for a wrong
    tenant, username or password, or a revoked person (the same answer for each)."""
    runtime = runtime_of(request)
    key = (body.tenant, body.username.casefold())
    throttle.check(key)
    async with runtime.db.reader() as session:
        account = await operators.by_username(
            session, tenant_id=body.tenant, username=body.username
        )
        issuer_key = await operator_tokens.newest_issuer_key(session)
    genuine = (
        account is not None
        and account.revoked_at is None
        and account.password_hash is not None
        and verify_password(body.password, account.password_hash)
    )
    if account is None or not genuine:
        throttle.failed(key)
        raise HTTPException(401, "wrong tenant, username or password")
    if issuer_key is None or issuer_key.private_jwk is None:
        raise HTTPException(
            503, "the centre has no key to sign tokens with: run `switchboard seed`"
        )
    hours = runtime.settings.operator_token_hours
    token, expires_at = operator_tokens.issue(issuer_key, account, lifetime=timedelta(hours=hours))
    return {
        "token": token,
        "expires_at": expires_at.isoformat(),
        "operator": {
            "username": account.username,
            "tenant": account.tenant_id,
            "roles": account.roles,
        },
    }


@router.get("/me")
async def me(who: Who) -> dict[str, Any]:
    """Who the token says is asking, and what they may do."""
    return {"person": who.person, "tenant": who.tenant_id, "roles": sorted(who.roles)}
