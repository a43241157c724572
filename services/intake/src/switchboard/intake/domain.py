"""Intake's decisions, free of I/O: is a request authentic, which tenant a contact is for, which
conversation an email joins."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from switchboard.common.errors import InvalidInput
from switchboard.common.signing import signature


class Unauthenticated(InvalidInput):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, status=401)


def check_signature(
    *,
    secret: str | None,
    timestamp: str | None,
    presented: str | None,
    body: bytes,
    now: float,
    window_seconds: int,
) -> None:
    """Raise `Unauthenticated` unless the request is signed with the secret inside the window."""
    if secret is None:
        raise Unauthenticated("unknown channel system")
    if not timestamp or not presented:
        raise Unauthenticated("missing X-Switchboard-Timestamp or X-Switchboard-Signature")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp.strip()):
        raise Unauthenticated("X-Switchboard-Timestamp is not UNIX seconds")
    ts = int(timestamp)
    if abs(now - ts) > window_seconds:
        raise Unauthenticated(f"stale request: timestamp outside the {window_seconds} s window")
    if not hmac.compare_digest(signature(secret, ts, body), presented.strip()):
        raise Unauthenticated("signature does not match the body")


def plausible_event_time(
    at: datetime, *, now: datetime, max_age: timedelta, max_ahead: timedelta
) -> None:
    """A channel system's time for an event must be near now: a call event dated in year 1 or
    9999 is a broken clock, not a call, and would corrupt every wait and handle time after it."""
    if at < now - max_age:
        raise InvalidInput(
            f"event time {at.isoformat()} is more than {max_age} in the past; "
            "check the channel system's clock"
        )
    if at > now + max_ahead:
        raise InvalidInput(
            f"event time {at.isoformat()} is more than {max_ahead} in the future; "
            "check the channel system's clock"
        )


def resolve_tenant(
    recipients: Iterable[str], destinations: Mapping[str, str], *, system_tenant: str | None
) -> tuple[str, str]:
    """(tenant, receiving address) for the first recipient that is a known destination.

    A channel system hands in contacts for its own tenant only; a trusted path (`system_tenant`
    None: the SMTP listener, a raw topic) for whichever tenant the destination belongs to.
    """
    known = [(r, destinations[r.lower()]) for r in recipients if r.lower() in destinations]
    if not known:
        raise InvalidInput("no recipient is a receiving address of any tenant", status=422)
    for address, tenant in known:
        if system_tenant is None or tenant == system_tenant:
            return tenant, address.lower()
    raise InvalidInput(
        "recipient belongs to a tenant this channel system does not serve", status=403
    )


def thread_candidates(in_reply_to: str | None, references: Iterable[str]) -> list[str]:
    """Message-IDs an email replies to, nearest first (In-Reply-To, then References newest first)."""
    ordered = [in_reply_to, *reversed(list(references))]
    return list(dict.fromkeys(i for i in ordered if i))


_TOKEN = re.compile(r"\[SB-([0-9A-F]{10})\]", re.IGNORECASE)


def new_conversation_token() -> str:
    """The short token agents' replies carry in their subject (`[SB-XXXXXXXXXX]`): 40 random bits;
    a clash is refused by the table's unique constraint and the acceptance retried with a new one."""
    return "SB-" + secrets.token_hex(5).upper()


def subject_tokens(subject: str) -> list[str]:
    return ["SB-" + token.upper() for token in _TOKEN.findall(subject)]
