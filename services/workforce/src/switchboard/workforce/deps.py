"""What workforce's routers share: the operator's tenant, and its calendar and today."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException

from switchboard.common.auth import operator_tenant
from switchboard.workforce import planning
from switchboard.workforce.context import Workforce
from switchboard.workforce.planning import Calendar

Tenant = Annotated[str, Depends(operator_tenant)]
MAX_DAYS = 31


async def calendar_of(context: Workforce, tenant_id: str) -> Calendar:
    async with context.runtime.db.reader() as session:
        cal = await planning.calendar(session, tenant_id)
    if cal is None:
        raise HTTPException(404, f"tenant {tenant_id} has no workforce calendar")
    return cal


def today_of(context: Workforce, cal: Calendar) -> date:
    return cal.local(context.clock.now()).date()


def check_span(start: date, end: date) -> None:
    """422 unless `start`..`end` (inclusive) is a span of at most `MAX_DAYS` days."""
    if end < start or (end - start).days >= MAX_DAYS:
        raise HTTPException(422, f"end must be on or after start, at most {MAX_DAYS} days on")
