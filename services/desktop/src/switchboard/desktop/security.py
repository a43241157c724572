"""Agents' session tokens (signed, expiring); their passwords are hashed as operators' are
(`switchboard.common.passwords`).

A token is `base64url(claims).base64url(HMAC-SHA256(key, claims))`; the claims name the agent and
the expiry. Nothing about the session is stored: the key is what makes a token genuine, so a forged
or altered token fails the signature, and an old one fails the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.common.envelope import utcnow


class InvalidToken(Exception):
    """The token is malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class Claims:
    agent_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, agent_id: str, *, lifetime: timedelta) -> tuple[str, datetime]:
    expires_at = utcnow() + lifetime
    claims = json.dumps({"sub": agent_id, "exp": int(expires_at.timestamp())}).encode()
    signature = hmac.new(key, claims, hashlib.sha256).digest()
    return f"{_b64(claims)}.{_b64(signature)}", expires_at


def verify(key: bytes, token: str) -> Claims:
    body, dot, signature = token.partition(".")
    if not dot:
        raise InvalidToken("malformed token")
    try:
        claims_raw, given = _unb64(body), _unb64(signature)
    except ValueError as error:
        raise InvalidToken("malformed token") from error
    if not hmac.compare_digest(hmac.new(key, claims_raw, hashlib.sha256).digest(), given):
        raise InvalidToken("token signature does not match")
    claims = json.loads(claims_raw)
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo)
    if expires_at <= utcnow():
        raise InvalidToken("token expired: sign in again")
    return Claims(str(claims["sub"]), expires_at)


class SessionKey:
    """The key the desktop signs agents' tokens with: the configured secret, or the one the
    desktop keeps in its database, read once before the first request is served."""

    def __init__(self) -> None:
        self._key: bytes | None = None

    def load(self, key: bytes) -> None:
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            raise RuntimeError("the desktop's signing key is read at start-up, before any request")
        return self._key
