"""A customer's erasure request, from the privacy officer to every service's copies and back.

Recording knows which contacts were the customer's and by which addresses and numbers they were
known, so it makes the request: it erases its own record in the same transaction (the KPIs keep
their times, queues, agents and outcomes) and asks every other service holding customers' data
to erase theirs (`customer.erasure_requested`). Each answers when done
(`customer.erasure_applied`); the request is complete when all have, and its report says what
each erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.privacy import ErasureApplied, ErasureRequested
from switchboard.common.ids import new_id
from switchboard.common.privacy import ERASED, identity_digest
from switchboard.common.runtime import Transaction
from switchboard.recording import customers
from switchboard.recording.retention import deidentify_contacts, documents_of, forget_customer
from switchboard.recording.store import RecordedContact

SERVICE = "recording"
HOLDERS = ("intake", "routing", "desktop", "escalation", "dispatch", "catalogue", SERVICE)
"""Every service that keeps customers' data, and so must answer an erasure request."""


class ErasureRecord(SQLModel, table=True):
    __tablename__ = "recording_erasure"

    request_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    customer_id: str = Field(max_length=36, index=True)
    contacts: int
    requested_by: str = Field(max_length=200)
    reason: str = Field(max_length=500)
    requested_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class ErasurePart(SQLModel, table=True):
    """What one service reported erasing for a request."""

    __tablename__ = "recording_erasure_part"

    request_id: str = Field(primary_key=True, max_length=36)
    service: str = Field(primary_key=True, max_length=32)
    erased: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)


async def request(
    tx: Transaction, *, tenant_id: str, customer_id: str, actor: str, reason: str
) -> ErasureRecord:
    """Erase the customer here and ask every other service to; the request's record."""
    session = tx.session
    owners = [customer_id, *await customers.merged_into(session, customer_id)]
    rows = list(
        await session.exec(
            select(RecordedContact).where(col(RecordedContact.customer_id).in_(owners))
        )
    )
    known = [i.value for owner in owners for i in await customers.identities(session, owner)]
    known += [v for r in rows for v in (r.customer_email, r.customer_phone) if v]
    identities = {identity_digest(v) for v in known}
    documents = documents_of(rows)
    contact_ids = sorted(r.contact_id for r in rows)
    record = ErasureRecord(
        request_id=new_id(),
        tenant_id=tenant_id,
        customer_id=customer_id,
        contacts=len(contact_ids),
        requested_by=actor,
        reason=reason,
    )
    asked = ErasureRequested(
        request_id=record.request_id,
        kind="erasure",
        customer_id=customer_id,
        contact_ids=contact_ids,
        conversation_ids=sorted({r.conversation_id for r in rows if r.conversation_id}),
        identities=sorted(i for i in identities if i),
        documents=documents,
        requested_by=actor,
    )
    event = Envelope.first(asked, tenant_id=tenant_id, aggregate_id=record.request_id)
    await tx.emit(event)
    session.add(record)
    customers.audit(
        session,
        tenant_id=tenant_id,
        customer_id=customer_id,
        actor=actor,
        action="erase",
        reason=reason,
        details={"request_id": record.request_id, "contacts": len(contact_ids)},
    )
    erased = await erase_here(session, contact_ids, owners)
    session.add(ErasurePart(request_id=record.request_id, service=SERVICE, erased=erased))
    return record


async def erase_here(
    session: AsyncSession, contact_ids: list[str], owners: list[str]
) -> dict[str, int]:
    """Recording's own copies: the contacts and their timelines and cases (de-identified as
    retention does), the customers' identities and names, and the corrections' values."""
    await deidentify_contacts(session, contact_ids)
    for owner in owners:
        await forget_customer(session, owner)
    corrected = await session.exec(
        update(customers.CustomerCorrection)
        .where(col(customers.CustomerCorrection.customer_id).in_(owners))
        .values(old_value=ERASED, new_value=ERASED)
    )
    return {
        "contacts": len(contact_ids),
        "customers": len(owners),
        "corrections": corrected.rowcount or 0,
    }


async def applied(session: AsyncSession, event: Envelope[ErasureApplied]) -> None:
    """A service's answer, kept once; the request complete when every holder has answered."""
    done = event.payload
    record = await session.get(ErasureRecord, done.request_id)
    if record is None:  # a retention run's: its report is recording_retention_run
        return
    if await session.get(ErasurePart, (done.request_id, done.service)) is not None:
        return
    session.add(ErasurePart(request_id=done.request_id, service=done.service, erased=done.erased))
    if record.completed_at is not None:
        return
    answered = set(
        await session.exec(
            select(ErasurePart.service).where(ErasurePart.request_id == done.request_id)
        )
    ) | {done.service}
    if answered >= set(HOLDERS):
        record.completed_at = utcnow()
        session.add(record)


async def view(session: AsyncSession, *, tenant_id: str, request_id: str) -> dict[str, Any] | None:
    """The request's progress: each holder done (with what it erased) or pending; the final
    report once all are done."""
    record = await session.get(ErasureRecord, request_id)
    if record is None or record.tenant_id != tenant_id:
        return None
    parts = {
        p.service: p
        for p in await session.exec(select(ErasurePart).where(ErasurePart.request_id == request_id))
    }
    return {
        **record.model_dump(mode="json", exclude={"tenant_id"}),
        "status": "complete" if record.completed_at else "in progress",
        "services": {
            service: {
                "status": "done",
                "at": parts[service].at.isoformat(),
                "erased": parts[service].erased,
            }
            if service in parts
            else {"status": "pending"}
            for service in HOLDERS
        },
    }


async def requests(session: AsyncSession, *, tenant_id: str) -> list[ErasureRecord]:
    query = select(ErasureRecord).where(ErasureRecord.tenant_id == tenant_id)
    return list(await session.exec(query.order_by(col(ErasureRecord.requested_at).desc())))
