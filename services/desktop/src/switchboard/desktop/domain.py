"""The desktop's rules, pure: who holds a contact and may act on it, how an assignment and a
wrap-up change that (a warm transfer or a conference shares a contact until each wraps up), and
who is told of a promise nearly due or broken. The API and the handlers apply these decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Holding:
    """Who has a contact: the agent it is assigned to, its status, and those who handed it on
    warm or share it in a conference and stay on it until they wrap up."""

    agent_id: str | None
    status: str
    also_held: tuple[str, ...] = ()


def refusal(holding: Holding, agent_id: str) -> tuple[int, str] | None:
    """Why `agent_id` may not act on the contact now (HTTP status, reason), or None."""
    if agent_id in holding.also_held:
        return None  # handed on warm, or shared in a conference, until they wrap up
    if holding.agent_id != agent_id:
        return 403, "this contact is not assigned to you"
    if holding.status != "assigned":
        return 409, f"this contact is {holding.status}, not in your hands"
    return None


def assigned(holding: Holding, agent_id: str) -> Holding:
    """The contact is assigned to `agent_id`; an agent who still had it (a warm transfer, a
    conference) keeps it too until they wrap up."""
    held = set(holding.also_held)
    if holding.status == "assigned" and holding.agent_id and holding.agent_id != agent_id:
        held.add(holding.agent_id)
    return Holding(agent_id, "assigned", tuple(sorted(held)))


def wrapped(holding: Holding, agent_id: str) -> tuple[Holding, bool]:
    """`agent_id` wrapped the contact up: their part ends. True when it is the contact's own
    wrap-up (its disposition and outcome), not a sharer leaving."""
    if agent_id in holding.also_held:
        return replace(
            holding, also_held=tuple(a for a in holding.also_held if a != agent_id)
        ), False
    if holding.agent_id == agent_id:
        return replace(holding, status="wrapped"), True
    return holding, True


def reason_gone(clock: str, *, replied: bool, status: str, outcome: str | None) -> bool:
    """Whether a promise's alert has lost its reason by the time it arrives: the customer was
    answered, or the contact was resolved."""
    if clock in ("first_response", "complaint_acknowledge"):
        return replied
    if clock in ("resolution", "complaint_respond"):
        return status == "wrapped" and outcome not in (None, "escalated")
    return False


def alerted(notify: Iterable[str], holding: Holding | None) -> list[str]:
    """Who is told of an alert: the escalation level's people and the agent holding the contact
    (if the desktop knows it)."""
    people = set(notify)
    if holding is not None and holding.agent_id and holding.status == "assigned":
        people.add(holding.agent_id)
    return sorted(people)
