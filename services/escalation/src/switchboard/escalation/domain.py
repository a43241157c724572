"""Escalation's rules, pure: which policy a contact falls under, what resolves it, how long a
promised follow-up's grace runs, how a clock ends, and what a breach does to the escalation path.
The handlers and the timer loop apply these decisions to the record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

RESOLVED = ("resolved", "sale", "no_sale", "retention_offer_accepted")
"""Outcomes that resolve a contact (and stop its resolution clock)."""
GRACE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def matches(
    policy: Mapping[str, Any], *, queue_id: str | None, channel: str | None, priority: int | None
) -> bool:
    """Whether a contact in this queue, on this channel, at this priority falls under `policy`
    (an empty list of queues or channels matches every one)."""
    return (
        (not policy["queues"] or queue_id in policy["queues"])
        and (not policy["channels"] or channel in policy["channels"])
        and (policy["min_priority"] is None or (priority or 0) >= policy["min_priority"])
    )


def grace_after(due_at: datetime, grace: str) -> datetime:
    """The end of a follow-up's grace (`30m`, `4h`, `1d`): the agent who promised it has it to
    themselves until then."""
    amount, unit = int(grace[:-1]), grace[-1]
    return due_at + timedelta(**{GRACE_UNITS[unit]: amount})


def first_seen(seen: Mapping[str, str], reason: str, at: datetime) -> dict[str, str]:
    """`seen` with `reason` at `at`, unless it was seen earlier."""
    told = seen.get(reason)
    if told is not None and datetime.fromisoformat(told) <= at:
        return dict(seen)
    return {**seen, reason: at.isoformat()}


def finished(state: str) -> str:
    """How a clock that is satisfied now ends: met, or met late once it had breached."""
    return "met" if state == "running" else "met_late"


@dataclass(frozen=True)
class Breach:
    level: int | None
    """The index of the path's level the contact climbs to (None: the tenant has no path)."""
    rearm: bool
    """Whether the clock runs on at that level (the same time again, from now)."""


def breach(
    levels: Sequence[Mapping[str, Any]], *, contact_level: int, kind: str, complaint_level: str
) -> Breach:
    """A missed clock climbs one level of the path from where the contact is (a complaint's goes
    straight to the complaint level, or the last), and runs on until the last level."""
    if not levels:
        return Breach(None, rearm=False)
    index = min(contact_level, len(levels) - 1)
    complaint = kind.startswith("complaint")
    if complaint:
        names = [level["name"] for level in levels]
        index = names.index(complaint_level) if complaint_level in names else len(levels) - 1
    return Breach(index, rearm=index + 1 < len(levels) and not complaint)


def missed(kind: str, due_at: datetime) -> str:
    """Why a breached contact was escalated, as the agent who gets it reads it."""
    return f"{kind.replace('_', ' ')} due {due_at:%Y-%m-%d %H:%M} UTC missed"
