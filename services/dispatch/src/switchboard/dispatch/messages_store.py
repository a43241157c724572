"""Dispatch's messages: every message sent to field staff or customers (exactly as sent, and
when the medium took it), communications to field staff with their recipients' answers, requests
for ETA, and customers' notices waiting on the Do Not Call gate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import setaside
from switchboard.common.envelope import utcnow
from switchboard.common.privacy import ERASED


class Sent(SQLModel, table=True):
    """A message to a technician or a customer, exactly as sent, and when the medium took it
    (`delivered_at`; the loop delivers what the transaction recorded)."""

    __tablename__ = "dispatch_sent"
    __table_args__ = (Index("ix_dispatch_sent_pending", "delivered_at"),)

    sent_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    job_id: str | None = Field(default=None, index=True, max_length=36)
    message_id: str | None = Field(default=None, index=True, max_length=36)
    to: str = Field(max_length=64)
    """A technician id, or `customer`."""
    medium: str = Field(max_length=32)
    address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    text: str
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class FieldMessage(SQLModel, table=True):
    """A communication to field staff, and the approval it needed."""

    __tablename__ = "dispatch_message"

    message_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    body: str
    author: str = Field(max_length=200)
    status: str = Field(max_length=24)
    """pending_approval, rejected or sent."""
    approval_reason: str | None = Field(default=None, max_length=300)
    decided_by: str | None = Field(default=None, max_length=200)
    decision_reason: str | None = Field(default=None, max_length=500)
    chase_after_minutes: int
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    correlation_id: str = Field(max_length=36)


class Recipient(SQLModel, table=True):
    __tablename__ = "dispatch_recipient"

    message_id: str = Field(primary_key=True, max_length=36)
    technician_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(default="pending", max_length=16)
    """pending, acknowledged, declined or eta."""
    eta_minutes: int | None = None
    responded_at: datetime | None = None
    chases: int = 0


class EtaRequest(SQLModel, table=True):
    """A job offered to a technician for their ETA."""

    __tablename__ = "dispatch_eta_request"

    job_id: str = Field(primary_key=True, max_length=36)
    technician_id: str = Field(primary_key=True, max_length=64)
    asked_at: datetime = Field(default_factory=utcnow)
    eta_minutes: int | None = None
    declined: bool = False
    replied_at: datetime | None = None
    rule: str = Field(max_length=16)
    """earliest (the rule picks when all have replied or time is up) or dispatcher."""


class CustomerNotice(SQLModel, table=True):
    """A message to a job's customer waiting on the DNC gate."""

    __tablename__ = "dispatch_notice"

    request_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    job_id: str = Field(max_length=36)
    number: str = Field(max_length=40)
    text: str
    status: str = Field(default="requested", max_length=16)
    reason: str | None = Field(default=None, max_length=300)


async def sent_for(
    session: AsyncSession, *, job_id: str | None = None, message_id: str | None = None
) -> list[Sent]:
    query = select(Sent).order_by(col(Sent.created_at), col(Sent.sent_id))
    if job_id is not None:
        query = query.where(Sent.job_id == job_id)
    if message_id is not None:
        query = query.where(Sent.message_id == message_id)
    return list((await session.exec(query)).all())


async def undelivered(session: AsyncSession, *, limit: int) -> list[Sent]:
    rows = await session.exec(
        select(Sent)
        .where(
            col(Sent.delivered_at).is_(None),
            col(Sent.sent_id).not_in(setaside.skipped("dispatch.delivery")),
        )
        .order_by(col(Sent.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def recipients(session: AsyncSession, *, message_id: str) -> list[Recipient]:
    rows = await session.exec(
        select(Recipient)
        .where(Recipient.message_id == message_id)
        .order_by(col(Recipient.technician_id))
    )
    return list(rows.all())


async def eta_requests(session: AsyncSession, *, job_id: str) -> list[EtaRequest]:
    rows = await session.exec(
        select(EtaRequest)
        .where(EtaRequest.job_id == job_id)
        .order_by(col(EtaRequest.technician_id))
    )
    return list(rows.all())


async def silent_recipients(session: AsyncSession, *, message_id: str) -> list[Recipient]:
    """Who has not answered the communication yet."""
    rows = await session.exec(
        select(Recipient).where(Recipient.message_id == message_id, Recipient.status == "pending")
    )
    return list(rows.all())


async def erase_sent(session: AsyncSession, *, job_ids: list[str]) -> int:
    """What was sent about the jobs, erased (and the customer's address on what went to them):
    how many messages."""
    sent = await session.exec(
        update(Sent).where(col(Sent.job_id).in_(job_ids)).values(subject=ERASED, text=ERASED)
    )
    await session.exec(
        update(Sent)
        .where(col(Sent.job_id).in_(job_ids), col(Sent.to) == "customer")
        .values(address=ERASED)
    )
    return sent.rowcount or 0


async def erase_notices(session: AsyncSession, *, job_ids: list[str]) -> int:
    notices = await session.exec(
        update(CustomerNotice)
        .where(col(CustomerNotice.job_id).in_(job_ids))
        .values(number=ERASED, text=ERASED)
    )
    return notices.rowcount or 0
