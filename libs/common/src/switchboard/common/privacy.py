"""What every service needs to apply a privacy request to its own copies of a customer's data: the
digest a customer's identity travels as, the report of what was erased, and a correction applied
to a copy."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

from switchboard.common.envelope import Envelope
from switchboard.common.errors import InvalidInput
from switchboard.common.events.privacy import ErasureApplied, ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.phone import e164
from switchboard.common.runtime import Transaction

ERASED = "[erased]"
"""What stands where a required text was (a column that may not be empty)."""


def identity_digest(value: str | None) -> str | None:
    """The SHA-256 of an email address, number or postal address, written the way every service
    writes it (an email address or postal address case-folded and spaced once, a number in E.164),
    so a service finds its copies without the request carrying the value itself."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if "@" not in text and sum(c.isdigit() for c in text) >= 6:
        with contextlib.suppress(InvalidInput):
            text = e164(text)
    normal = " ".join(text.casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()


def names_them(request: ErasureRequested, *values: str | None) -> bool:
    """Whether any of `values` is one of the request's identities."""
    wanted = set(request.identities)
    return any(identity_digest(v) in wanted for v in values if v)


def erase_files(folder: Path, request: ErasureRequested, *, also: tuple[str, ...] = ()) -> int:
    """Delete the files under `folder` that name one of the request's contacts or `also` (ids of the
    service's own, like a job's): the copies of what was sent out."""
    if not folder.is_dir():
        return 0
    needles = [n.encode() for n in (*request.contact_ids, *also) if n]
    removed = 0
    for path in folder.rglob("*"):
        if path.is_file() and any(n in path.read_bytes() for n in needles):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def report(
    tx: Transaction, event: Envelope[ErasureRequested], service: str, erased: dict[str, int]
) -> None:
    """Tell recording (the privacy officer's view) that `service` has applied the request."""
    done = ErasureApplied(request_id=event.payload.request_id, service=service, erased=erased)
    await tx.emit(event.follow(done, aggregate_id=event.payload.request_id))


def scrubbed(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON object about an erased contact (an inbox entry) reduced to its ids."""
    kept = {k: v for k, v in data.items() if k.endswith("_id") or k in ("kind", "event")}
    return kept | {"erased": True}


def corrected_party(
    correction: CustomerCorrected, name: str | None, email: str | None, phone: str | None
) -> tuple[str | None, str | None, str | None]:
    """A copy's name, email and number with the correction applied (an address or number is
    replaced only where the copy holds the old one)."""
    old = identity_digest(correction.old_value)
    if correction.field == "name":
        name = correction.new_value
    elif correction.field == "email" and (email is None or identity_digest(email) == old):
        email = email and correction.new_value
    elif correction.field == "phone" and (phone is None or identity_digest(phone) == old):
        phone = phone and correction.new_value
    return name, email, phone
