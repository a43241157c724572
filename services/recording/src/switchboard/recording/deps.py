"""What recording's routers share: who may read customers' records, the operator asking, and the
reason they give for reading."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from switchboard.common.auth import Operator, may, operator

CUSTOMER_KEEPERS = ("team_leader", "privacy_officer")
"""Who may read customers' records and contacts' content: a read-only person sees figures only."""
KEEPERS = may(*CUSTOMER_KEEPERS)
Who = Annotated[Operator, Depends(operator)]


def access_reason(request: Request) -> str:
    return request.headers.get("x-access-reason", "").strip()[:500] or "not given"


PRIVACY = may("privacy_officer")
