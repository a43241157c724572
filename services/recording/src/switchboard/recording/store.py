"""Recording's tables: contacts and their append-only timelines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, tuple_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.recording.domain import ContactFacts, merge


class RecordedContact(SQLModel, table=True):
    __tablename__ = "recording_contact"
    __table_args__ = (Index("ix_recording_contact_period", "tenant_id", "received_at"),)

    contact_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=16)
    conversation_id: str | None = Field(default=None, max_length=36, index=True)
    received_at: datetime | None = None
    customer_name: str | None = Field(default=None, max_length=300)
    customer_email: str | None = Field(default=None, max_length=320, index=True)
    customer_phone: str | None = Field(default=None, max_length=32, index=True)
    subject: str | None = Field(default=None, sa_column=Column(Text))
    text: str | None = Field(default=None, sa_column=Column(Text))
    queue_id: str | None = Field(default=None, max_length=64)
    not_routed_reason: str | None = Field(default=None, max_length=500)
    agent_id: str | None = Field(default=None, max_length=64, index=True)
    disposition: str | None = Field(default=None, max_length=64)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    masked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    answered_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    offered_at: datetime | None = None
    assigned_at: datetime | None = None
    wrapped_at: datetime | None = None
    waited_seconds: float | None = None
    handle_seconds: float | None = None
    abandoned_after_seconds: float | None = None
    service_level_seconds: int | None = None
    outcome: str | None = Field(default=None, max_length=64)
    escalated: bool | None = None
    customer_id: str | None = Field(default=None, max_length=36, index=True)
    deidentified_at: datetime | None = None
    """Set when retention removed who the contact was from and what it said."""
    agent_assigned_at: datetime | None = None
    """When the current agent was assigned (the last assignment, after an escalation)."""
    assignments: int = 0
    """How many times the contact was assigned: more than once is a transfer."""


class TimelineEntry(SQLModel, table=True):
    """One row per event applied to a contact; rows are only ever added."""

    __tablename__ = "recording_timeline"

    event_id: str = Field(primary_key=True, max_length=36)
    contact_id: str = Field(max_length=36, index=True)
    tenant_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    occurred_at: datetime
    causation_id: str | None = Field(default=None, max_length=36)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


async def record(
    session: AsyncSession,
    *,
    contact_id: str,
    tenant_id: str,
    facts: ContactFacts,
    entry: TimelineEntry,
) -> None:
    """Apply one event: merge its facts into the contact and append its timeline entry."""
    contact = await session.get(RecordedContact, contact_id, with_for_update=True)
    current = (
        contact.model_dump() if contact else {"contact_id": contact_id, "tenant_id": tenant_id}
    )
    updated = RecordedContact.model_validate(merge(current, facts))
    await session.merge(updated)
    session.add(entry)


async def contact(
    session: AsyncSession, *, contact_id: str, tenant_id: str
) -> RecordedContact | None:
    row = await session.get(RecordedContact, contact_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def timeline(session: AsyncSession, *, contact_id: str) -> list[TimelineEntry]:
    rows = await session.exec(
        select(TimelineEntry)
        .where(TimelineEntry.contact_id == contact_id)
        .order_by(col(TimelineEntry.occurred_at), col(TimelineEntry.event_id))
    )
    return list(rows)


async def contacts_between(
    session: AsyncSession, tenant_id: str, start: datetime, end: datetime, *, page: int = 1000
) -> AsyncIterator[list[RecordedContact]]:
    """The tenant's contacts received in [start, end), oldest first, a page at a time (keyset
    paging, so a long period never sits in memory)."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(RecordedContact).where(
            RecordedContact.tenant_id == tenant_id,
            col(RecordedContact.received_at) >= start,
            col(RecordedContact.received_at) < end,
        )
        if after is not None:
            query = query.where(
                tuple_(col(RecordedContact.received_at), col(RecordedContact.contact_id))
                > tuple_(*after)
            )
        order = (col(RecordedContact.received_at), col(RecordedContact.contact_id))
        rows = list(await session.exec(query.order_by(*order).limit(page)))
        if not rows:
            return
        yield rows
        last = rows[-1]
        assert last.received_at is not None
        after = (last.received_at, last.contact_id)
