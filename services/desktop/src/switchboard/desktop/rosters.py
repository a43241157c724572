"""The desktop's copy of workforce's published schedules, agents' adherence and each tenant's
intraday picture (from `workforce.*` events), so agents see their own schedule and team leaders
their day without the desktop calling workforce."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import aware


class AgentSchedule(SQLModel, table=True):
    __tablename__ = "desktop_schedule"

    agent_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    roster_id: str = Field(max_length=36)
    activities: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    leave: str | None = Field(default=None, max_length=200)
    published_at: datetime


class AgentAdherence(SQLModel, table=True):
    __tablename__ = "desktop_adherence"

    agent_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    measured_at: datetime


class TenantDay(SQLModel, table=True):
    __tablename__ = "desktop_tenant_day"

    tenant_id: str = Field(primary_key=True, max_length=64)
    picture: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    measured_at: datetime


async def keep_latest(session: AsyncSession, *, row: AgentAdherence | TenantDay) -> None:
    """Store `row` unless what is stored was measured later (a late, older event)."""
    stored: AgentAdherence | TenantDay | None = (
        await session.get(AgentAdherence, row.agent_id)
        if isinstance(row, AgentAdherence)
        else await session.get(TenantDay, row.tenant_id)
    )
    if stored is not None and aware(stored.measured_at) >= aware(row.measured_at):
        return
    await session.merge(row)


async def schedule(
    session: AsyncSession, *, agent_id: str, since: date, until: date
) -> Sequence[AgentSchedule]:
    query = select(AgentSchedule).where(
        AgentSchedule.agent_id == agent_id,
        col(AgentSchedule.day) >= since,
        col(AgentSchedule.day) <= until,
    )
    return (await session.exec(query.order_by(col(AgentSchedule.day)))).all()


async def day_of(
    session: AsyncSession, *, agent_ids: Sequence[str], day: date
) -> Sequence[AgentSchedule]:
    query = select(AgentSchedule).where(
        col(AgentSchedule.agent_id).in_(agent_ids), AgentSchedule.day == day
    )
    return (await session.exec(query)).all()


async def adherence_of(
    session: AsyncSession, *, agent_ids: Sequence[str]
) -> Sequence[AgentAdherence]:
    query = select(AgentAdherence).where(col(AgentAdherence.agent_id).in_(agent_ids))
    return (await session.exec(query)).all()


async def tenant_days(session: AsyncSession, *, tenant_ids: Sequence[str]) -> Sequence[TenantDay]:
    query = select(TenantDay).where(col(TenantDay.tenant_id).in_(tenant_ids))
    return (await session.exec(query)).all()
