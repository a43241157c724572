"""Who may do what in the quality programme's API: an operator token acts as the tenant's
administrator; the desktop acts for the person signed in there, whose roles decide (an agent sees
only their own scorecard and evaluations). Another tenant's objects are 404; a missing role 403."""

from __future__ import annotations

from switchboard.common.auth import Actor, Who, allow
from switchboard.common.runtime import runtime_of

__all__ = ["ANALYSTS", "LEADERS", "Who", "allow", "own_or", "runtime_of"]
ANALYSTS = ("quality_analyst",)
LEADERS = ("team_leader",)


def own_or(who: Actor, agent_id: str, *roles: str) -> None:
    """An agent may see their own; others need a role."""
    if who.agent_id != agent_id:
        allow(who, *roles)
