"""Who may do what in the quality programme's API: an operator token acts as the tenant's
administrator; the desktop acts for the person signed in there, whose roles decide (an agent sees
only their own scorecard and evaluations). Another tenant's objects are 404; a missing role 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from switchboard.common.auth import Actor, actor
from switchboard.common.runtime import Runtime

Who = Annotated[Actor, Depends(actor)]
ANALYSTS = ("quality_analyst",)
LEADERS = ("team_leader",)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def allow(who: Actor, *roles: str) -> None:
    if not who.has(*roles):
        raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")


def own_or(who: Actor, agent_id: str, *roles: str) -> None:
    """An agent may see their own; others need a role."""
    if who.agent_id != agent_id:
        allow(who, *roles)
