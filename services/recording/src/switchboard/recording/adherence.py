"""Schedule adherence as a KPI: each agent's latest adherence figures per day, as workforce
publishes them (`workforce.adherence`), added up over a period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import aware
from switchboard.common.events.workforce import AdherenceChanged


class AgentAdherenceDay(SQLModel, table=True):
    __tablename__ = "recording_adherence"

    agent_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    tenant_id: str = Field(index=True, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    scheduled_seconds: float = 0
    adherent_seconds: float = 0
    measured_at: datetime


async def apply(
    session: AsyncSession, *, tenant_id: str, report: AdherenceChanged, measured_at: datetime
) -> None:
    """Keep the latest measure of the agent's day (an older one delivered late changes nothing)."""
    row = await session.get(AgentAdherenceDay, (report.agent_id, report.day))
    if row is not None and aware(row.measured_at) >= aware(measured_at):
        return
    row = row or AgentAdherenceDay(
        agent_id=report.agent_id, day=report.day, tenant_id=tenant_id, measured_at=measured_at
    )
    row.team, row.measured_at = report.team, measured_at
    row.scheduled_seconds, row.adherent_seconds = report.scheduled_seconds, report.adherent_seconds
    session.add(row)


async def rostered_seconds(
    session: AsyncSession,
    *,
    tenant_id: str,
    start: datetime,
    end: datetime,
    agent_ids: tuple[str, ...] | None = None,
) -> tuple[float, float]:
    """Scheduled and adherent seconds over the days of the period, for every agent of the tenant
    or the given ones."""
    a = AgentAdherenceDay
    last_day = (end - timedelta(microseconds=1)).date()
    query = select(
        func.sum(a.scheduled_seconds).label("scheduled"),
        func.sum(a.adherent_seconds).label("adherent"),
    ).where(col(a.tenant_id) == tenant_id, col(a.day) >= start.date(), col(a.day) <= last_day)
    if agent_ids is not None:
        query = query.where(col(a.agent_id).in_(agent_ids))
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return float(row.scheduled or 0), float(row.adherent or 0)


def ratio(adherent: float, scheduled: float) -> float | None:
    return round(adherent / scheduled, 4) if scheduled else None


async def schedule_adherence(
    session: AsyncSession, *, tenant_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """Time in the scheduled state ÷ scheduled time, over the agents' days in the period."""
    scheduled, adherent = await rostered_seconds(session, tenant_id=tenant_id, start=start, end=end)
    return {"schedule_adherence": ratio(adherent, scheduled)}
