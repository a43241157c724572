"""Retention (Privacy Act, APP 11.2): contacts older than their tenant's `retention_days` are
de-identified — who they were from and what they said is removed from the contact, its timeline
and the customer it belonged to — while what the KPIs need (times, queue, agent, outcome) stays.
A run reports what it did, in `recording_retention_run` and in the log."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.recording import casework
from switchboard.recording.customers import (
    CustomerIdentity,
    RecordedCustomer,
    identities_changed,
)
from switchboard.recording.kpis import RecordPolicy
from switchboard.recording.store import RecordedContact, TimelineEntry

log = structlog.get_logger("switchboard.recording.retention")
BATCH = 500


class RetentionRun(SQLModel, table=True):
    __tablename__ = "recording_retention_run"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    ran_at: datetime = Field(default_factory=utcnow)
    cutoff: datetime
    contacts: int
    customers: int


async def run(
    tx: Transaction, *, now: datetime | None = None, tenant_id: str | None = None
) -> list[RetentionRun]:
    """De-identify the contacts of every tenant (or of `tenant_id`) received before its cutoff,
    here and (by `customer.erasure_requested`) in every service holding copies; one report per
    tenant."""
    now, session = now or utcnow(), tx.session
    reports = []
    policies = select(RecordPolicy)
    if tenant_id is not None:
        policies = policies.where(RecordPolicy.tenant_id == tenant_id)
    for policy in await session.exec(policies):
        cutoff = now - timedelta(days=policy.retention_days)
        contacts, customers = await _deidentify(tx, policy.tenant_id, cutoff)
        report = RetentionRun(
            tenant_id=policy.tenant_id, cutoff=cutoff, contacts=contacts, customers=customers
        )
        session.add(report)
        reports.append(report)
        log.info(
            "retention run",
            tenant_id=policy.tenant_id,
            cutoff=cutoff.isoformat(),
            contacts_deidentified=contacts,
            customers_deidentified=customers,
        )
    return reports


async def _deidentify(tx: Transaction, tenant_id: str, cutoff: datetime) -> tuple[int, int]:
    session = tx.session
    expired = list(
        await session.exec(
            select(RecordedContact).where(
                RecordedContact.tenant_id == tenant_id,
                col(RecordedContact.received_at) < cutoff,
                col(RecordedContact.deidentified_at).is_(None),
            )
        )
    )
    contact_ids = [c.contact_id for c in expired]
    documents = documents_of(expired)
    touched = await deidentify_contacts(session, contact_ids)
    await _ask_the_others(
        tx,
        tenant_id,
        contact_ids,
        documents,
        {c.conversation_id for c in expired if c.conversation_id},
    )
    customers = 0
    for customer_id in sorted(touched):
        remaining = await session.exec(
            select(RecordedContact.contact_id).where(RecordedContact.customer_id == customer_id)
        )
        if remaining.first() is None:  # nothing recent left: the customer goes too
            await forget_customer(session, customer_id)
            customers += 1
    return len(contact_ids), customers


async def _ask_the_others(
    tx: Transaction,
    tenant_id: str,
    contact_ids: list[str],
    documents: list[str],
    conversations: set[str],
) -> None:
    """The other services' copies of the expired contacts, in requests of at most `BATCH`; a
    conversation only once none of its contacts is recent (it may still be going on)."""
    still = set(
        await tx.session.exec(
            select(RecordedContact.conversation_id).where(
                col(RecordedContact.conversation_id).in_(conversations),
                col(RecordedContact.deidentified_at).is_(None),
            )
        )
    )
    ended = sorted(conversations - still)
    for start in range(0, max(len(contact_ids), len(ended)), BATCH):
        asked = ErasureRequested(
            request_id=new_id(),
            kind="retention",
            requested_by="retention",
            contact_ids=contact_ids[start : start + BATCH],
            conversation_ids=ended[start : start + BATCH],
            documents=documents if start == 0 else [],
        )
        await tx.emit(Envelope.first(asked, tenant_id=tenant_id, aggregate_id=asked.request_id))


def documents_of(contacts: list[RecordedContact]) -> list[str]:
    """The SHA-256 of every document the contacts carried (intake keeps them by it)."""
    return sorted({str(a["sha256"]) for c in contacts for a in c.attachments if "sha256" in a})


async def deidentify_contacts(session: AsyncSession, contact_ids: list[str]) -> set[str]:
    """Remove who the contacts were from and what they said (from the contact, its timeline and
    its case), keeping what the KPIs need; the customers they belonged to."""
    touched: set[str] = set()
    for start in range(0, len(contact_ids), BATCH):
        chunk = contact_ids[start : start + BATCH]
        owners = await session.exec(
            select(RecordedContact.customer_id).where(col(RecordedContact.contact_id).in_(chunk))
        )
        touched.update(c for c in owners if c is not None)
        await session.exec(
            update(RecordedContact)
            .where(col(RecordedContact.contact_id).in_(chunk))
            .values(
                customer_name=None,
                customer_email=None,
                customer_phone=None,
                subject=None,
                text=None,
                attachments=[],
                customer_id=None,
                deidentified_at=utcnow(),
            )
        )
        await session.exec(
            update(TimelineEntry)
            .where(col(TimelineEntry.contact_id).in_(chunk))
            .values(details={"deidentified": True})
        )
        await casework.deidentify(session, chunk)
    return touched


async def forget_customer(session: AsyncSession, customer_id: str) -> None:
    """The customer's identities go, and their name; their id stays for the audit trail."""
    await session.exec(
        delete(CustomerIdentity).where(col(CustomerIdentity.customer_id) == customer_id)
    )
    identities_changed(session)
    customer = await session.get(RecordedCustomer, customer_id)
    if customer is not None:
        customer.name = None
        session.add(customer)


async def runs(session: AsyncSession, tenant_id: str) -> list[RetentionRun]:
    query = select(RetentionRun).where(RetentionRun.tenant_id == tenant_id)
    return list(await session.exec(query.order_by(col(RetentionRun.id).desc()).limit(50)))
