"""Operators' signed-in tokens: JWTs (ES256) the desktop issues when a person signs in, checked by
every service with the centre's public keys; or, when a centre has its own identity provider,
its OIDC tokens, checked with the provider's keys from the settings (`SWITCHBOARD_OIDC_*`).

A token only says who signed in and when. What the person may do comes from their account at the
moment of each request, so a revoked person, a changed password or a removed role takes effect at
once in every service, whatever the token's expiry.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import utcnow
from switchboard.common.ids import new_id
from switchboard.common.operators import OPERATOR_ROLES, OperatorAccount
from switchboard.common.settings import Settings

ISSUER = "switchboard"
AUDIENCE = "switchboard"
ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "Ed25519"]
KEYS_TTL_SECONDS = 60.0


class InvalidOperatorToken(Exception):
    """Forged, expired, revoked or not meant for us; the message says which."""


class IssuerKey(SQLModel, table=True):
    """The centre's keys for operators' tokens. The public half is in every service's database;
    the private half only where people sign in (the desktop's)."""

    __tablename__ = "operator_issuer_key"

    kid: str = Field(primary_key=True, max_length=64)
    public_jwk: str = Field(max_length=2000)
    private_jwk: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(default_factory=utcnow)


def new_issuer_key() -> IssuerKey:
    key = ECKey.generate_key("P-256", parameters={"kid": new_id(), "use": "sig", "alg": "ES256"})
    return IssuerKey(
        kid=str(key.kid),
        public_jwk=json.dumps(key.as_dict(private=False)),
        private_jwk=json.dumps(key.as_dict(private=True)),
    )


async def keep_issuer_key(session: AsyncSession, key: IssuerKey, *, private: bool) -> None:
    """Store `key` (with its private half only if `private`), once."""
    row = await session.get(IssuerKey, key.kid)
    if row is None:
        row = IssuerKey(kid=key.kid, public_jwk=key.public_jwk, created_at=key.created_at)
    if private:
        row.private_jwk = key.private_jwk
    session.add(row)


async def newest_issuer_key(session: AsyncSession) -> IssuerKey | None:
    query = select(IssuerKey).order_by(col(IssuerKey.created_at).desc())
    return (await session.exec(query)).first()


def issue(key: IssuerKey, account: OperatorAccount, *, lifetime: timedelta) -> tuple[str, datetime]:
    if key.private_jwk is None:
        raise InvalidOperatorToken("this service holds no private key to sign tokens with")
    now = utcnow()
    expires_at = now + lifetime
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": account.operator_id,
        "tenant": account.tenant_id,
        "name": account.username,
        "roles": account.roles,
        "iat": now.timestamp(),
        "exp": int(expires_at.timestamp()),
        "jti": new_id(),
    }
    signer = ECKey.import_key(json.loads(key.private_jwk))
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, signer), expires_at


@dataclass(frozen=True)
class Verified:
    """A genuine, unexpired token: who it names and when it was issued."""

    issuer: str
    subject: str
    tenant_id: str
    person: str
    roles: frozenset[str]
    issued_at: datetime


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class TokenVerifier:
    """Checks tokens against the centre's public keys (read from the database, refreshed every
    minute so a rotated key is picked up) and the OIDC provider's keys from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._own: KeySet | None = None
        self._own_read_at = 0.0
        self._oidc = _oidc_keys(settings)

    async def verify(self, session: AsyncSession, token: str) -> Verified:
        try:
            issuer = _unverified_issuer(token)
            if issuer == ISSUER:
                return _checked(token, await self._own_keys(session), ISSUER, AUDIENCE, self)
            oidc_issuer = self.settings.oidc_issuer
            if self._oidc is not None and oidc_issuer is not None and issuer == oidc_issuer:
                audience = self.settings.oidc_audience
                return _checked(token, self._oidc, oidc_issuer, audience, self)
        except JoseError as error:
            raise InvalidOperatorToken(f"token refused: {error.error}") from error
        raise InvalidOperatorToken("token from an issuer this centre does not trust")

    async def _own_keys(self, session: AsyncSession) -> KeySet:
        if self._own is None or time.monotonic() - self._own_read_at > KEYS_TTL_SECONDS:
            rows = await session.exec(select(IssuerKey.public_jwk))
            self._own = KeySet.import_key_set({"keys": [json.loads(r) for r in rows]})
            self._own_read_at = time.monotonic()
        return self._own


def _unverified_issuer(token: str) -> str | None:
    """The `iss` a token claims, read before it is checked, only to pick the keys to check it with."""
    try:
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, IndexError) as error:
        raise InvalidOperatorToken("malformed token") from error
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def _checked(
    token: str, keys: KeySet, issuer: str, audience: str | None, verifier: TokenVerifier
) -> Verified:
    decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    rules: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
    if audience:
        rules["aud"] = {"essential": True, "value": audience}
    jwt.JWTClaimsRegistry(leeway=30, **rules).validate(decoded.claims)
    claims = decoded.claims
    settings = verifier.settings
    own = issuer == ISSUER
    tenant = claims.get("tenant" if own else settings.oidc_tenant_claim)
    roles = claims.get("roles" if own else settings.oidc_roles_claim) or []
    if not isinstance(tenant, str) or not tenant:
        raise InvalidOperatorToken("the token names no tenant")
    if isinstance(roles, str):
        roles = roles.split()
    person = claims.get("name" if own else settings.oidc_name_claim) or claims["sub"]
    return Verified(
        issuer=issuer,
        subject=str(claims["sub"]),
        tenant_id=tenant,
        person=str(person),
        roles=frozenset(r for r in roles if r in OPERATOR_ROLES),
        issued_at=datetime.fromtimestamp(float(claims.get("iat", 0)), tz=UTC),
    )


def _oidc_keys(settings: Settings) -> KeySet | None:
    """The OIDC provider's JWKS from the settings: the JSON itself or a file holding it."""
    if not settings.oidc_issuer or not settings.oidc_jwks:
        return None
    text = settings.oidc_jwks.strip()
    if not text.startswith("{"):
        text = Path(text).read_text(encoding="utf-8")
    return KeySet.import_key_set(json.loads(text))
