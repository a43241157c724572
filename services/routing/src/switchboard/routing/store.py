"""Routing's tables: the tenants' queues and the contacts waiting in them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.routing.domain import QueueRule


class RoutingQueue(SQLModel, table=True):
    __tablename__ = "routing_queue"

    tenant_id: str = Field(primary_key=True, max_length=64)
    queue_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    is_default: bool = False
    priority: int = 5
    service_level_percent: int = 80
    service_level_seconds: int = 20


class QueueEntry(SQLModel, table=True):
    """A contact waiting in a queue."""

    __tablename__ = "routing_queue_entry"

    contact_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    queue_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=16)
    priority: int
    enqueued_at: datetime = Field(default_factory=utcnow, index=True)


async def queue_rules(session: AsyncSession, *, tenant_id: str) -> list[QueueRule]:
    rows = await session.exec(select(RoutingQueue).where(RoutingQueue.tenant_id == tenant_id))
    return [QueueRule(r.queue_id, r.priority, r.is_default) for r in rows]


async def enqueue(
    session: AsyncSession,
    *,
    contact_id: str,
    tenant_id: str,
    queue_id: str,
    channel: str,
    priority: int,
) -> None:
    session.add(
        QueueEntry(
            contact_id=contact_id,
            tenant_id=tenant_id,
            queue_id=queue_id,
            channel=channel,
            priority=priority,
        )
    )


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    for tenant in centre.tenants:
        for queue in tenant.queues:
            await session.merge(
                RoutingQueue(
                    tenant_id=tenant.id,
                    queue_id=queue.id,
                    name=queue.name,
                    is_default=queue.default,
                    priority=queue.priority,
                    service_level_percent=queue.service_level_percent,
                    service_level_seconds=queue.service_level_seconds,
                )
            )
