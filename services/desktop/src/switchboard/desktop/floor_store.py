"""The desktop's view of the floor: each queue's latest figures and script, and what supervisors
did (monitoring calls, setting agents' states)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow


class SupervisorAction(SQLModel, table=True):
    """What a supervisor did to an agent or their call (monitor, whisper, barge, a forced
    state): who, to whom, when and why, for the audit."""

    __tablename__ = "desktop_supervisor_action"

    action_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    supervisor_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    agent_id: str = Field(max_length=64)
    contact_id: str | None = Field(default=None, max_length=36)
    detail: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, index=True)


class QueueFigures(SQLModel, table=True):
    """Each queue's latest statistics from routing, for the wallboard."""

    __tablename__ = "desktop_queue_figures"

    tenant_id: str = Field(primary_key=True, max_length=64)
    queue_id: str = Field(primary_key=True, max_length=64)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class QueueScript(SQLModel, table=True):
    """A queue's name and contact guide, from the centre configuration."""

    __tablename__ = "desktop_queue_script"

    tenant_id: str = Field(primary_key=True, max_length=64)
    queue_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    greeting: str = ""
    notes: str = ""
    closing: str = ""


async def queue_figures(session: AsyncSession, *, tenant_ids: list[str]) -> list[QueueFigures]:
    rows = await session.exec(
        select(QueueFigures).where(col(QueueFigures.tenant_id).in_(tenant_ids))
    )
    return list(rows)


async def queue_scripts(session: AsyncSession, *, tenant_ids: list[str]) -> list[QueueScript]:
    rows = await session.exec(select(QueueScript).where(col(QueueScript.tenant_id).in_(tenant_ids)))
    return list(rows)


async def supervisor_actions(
    session: AsyncSession, *, tenant_ids: list[str], limit: int
) -> list[SupervisorAction]:
    """The newest first, at most `limit`."""
    rows = await session.exec(
        select(SupervisorAction)
        .where(col(SupervisorAction.tenant_id).in_(tenant_ids))
        .order_by(col(SupervisorAction.at).desc())
        .limit(limit)
    )
    return list(rows)


async def apply_scripts(session: AsyncSession, *, centre: CentreConfig) -> None:
    """Each queue's name and script, from the centre's configuration."""
    for tenant in centre.tenants:
        await session.exec(delete(QueueScript).where(col(QueueScript.tenant_id) == tenant.id))
        for queue in tenant.queues:
            script = queue.script
            session.add(
                QueueScript(
                    tenant_id=tenant.id,
                    queue_id=queue.id,
                    name=queue.name,
                    greeting=script.greeting if script else "",
                    notes=script.notes if script else "",
                    closing=script.closing if script else "",
                )
            )
