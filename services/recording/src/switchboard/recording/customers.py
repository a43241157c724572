"""Customers and their identities: contacts from the same email address, phone number or postal
address join the same customer; an operator can merge two customers, and every merge and every
read of a customer's record is written to the access audit (who, when, which record, why)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch
from switchboard.common.db import per_session
from switchboard.common.envelope import utcnow
from switchboard.common.events.intake import Party
from switchboard.recording.store import RecordedContact, write_pending

IDENTITY_KINDS = ("email", "phone", "postal_address")
EVERY_CUSTOMER = "*"
"""The access audit's customer for a read of many customers' contacts at once (an export)."""
UNKNOWN = "-"
"""The access audit's customer for a contact nobody was identified for."""
_NAMESPACE = uuid.UUID("6f1d3c1e-9a51-4d0b-8a52-2b7c0d6f4e11")


class RecordedCustomer(SQLModel, table=True):
    __tablename__ = "recording_customer"

    customer_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    name: str | None = Field(default=None, max_length=300, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    merged_into: str | None = Field(default=None, max_length=36)


class CustomerIdentity(SQLModel, table=True):
    __tablename__ = "recording_customer_identity"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=400, index=True)
    customer_id: str = Field(max_length=36, index=True)


class AccessAudit(SQLModel, table=True):
    """Append-only: who read or changed which customer's record, when and why."""

    __tablename__ = "recording_access_audit"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    customer_id: str = Field(max_length=36, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=32)
    """read, search, export, merge, correct."""
    reason: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CustomerCorrection(SQLModel, table=True):
    """Append-only history of corrections: the old value is kept here when one is replaced."""

    __tablename__ = "recording_customer_correction"

    event_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=36, index=True)
    field: str = Field(max_length=32)
    old_value: str | None = Field(default=None, max_length=400)
    new_value: str = Field(max_length=400)
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=200)
    at: datetime


def normalised(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().casefold()
    if kind == "postal_address":
        return " ".join(value.casefold().split())
    return value.strip()


def identities_of(party: Party) -> list[tuple[str, str]]:
    """The party's identities, normalised, strongest first (email, phone, postal address)."""
    given = (
        ("email", party.email),
        ("phone", party.phone),
        ("postal_address", party.postal_address),
    )
    return [(kind, normalised(kind, value)) for kind, value in given if value]


class Owners:
    """Within one transaction: the owner of each identity looked up (an identity looked up and
    absent from `owner` is nobody's yet), so a batch's contacts are matched with one query for them
    all (`prefetch_owners`) and the identities its earlier contacts added are found by its later
    ones without a query."""

    def __init__(self, _session: AsyncSession) -> None:
        self.owner: dict[tuple[str, str, str], str] = {}
        """(tenant, kind, value) → customer id."""
        self.looked_up: set[tuple[str, str]] = set()
        """(tenant, value) whose owners are all in `owner`."""

    def learn(self, tenant_id: str, values: list[str], rows: Iterable[CustomerIdentity]) -> None:
        self.looked_up.update((tenant_id, value) for value in values)
        self.owner.update({(tenant_id, r.kind, r.value): r.customer_id for r in rows})


async def prefetch_owners(session: AsyncSession, parties: list[tuple[str, Party]]) -> None:
    """The owners of a batch's parties' identities (tenant, party), in one query per tenant, and
    those customers' rows."""
    owners = per_session(session, Owners)
    wanted: dict[str, list[str]] = {}
    for tenant_id, party in parties:
        wanted.setdefault(tenant_id, []).extend(value for _, value in identities_of(party))
    for tenant_id, values in wanted.items():
        await _look_up(session, owners, tenant_id, list(dict.fromkeys(values)))
    await prefetch.load(session, RecordedCustomer, set(owners.owner.values()))


async def link(session: AsyncSession, *, tenant_id: str, party: Party) -> str | None:
    """The customer these identities belong to (created if none does), with any identity not yet
    known added to them. The id is derived from the first identity, so replaying the same events
    gives the same customer."""
    identities = identities_of(party)
    if not identities:
        return None
    owners = per_session(session, Owners)
    await _look_up(session, owners, tenant_id, [value for _, value in identities])
    known = {
        i: owners.owner[(tenant_id, *i)] for i in identities if (tenant_id, *i) in owners.owner
    }
    customer_id = next((known[i] for i in identities if i in known), None)
    customer: RecordedCustomer | None
    if customer_id is None:
        kind, value = identities[0]
        customer_id = str(uuid.uuid5(_NAMESPACE, f"{tenant_id}:{kind}:{value}"))
        customer = RecordedCustomer(customer_id=customer_id, tenant_id=tenant_id, name=party.name)
        session.add(customer)
    else:
        customer = await prefetch.find(session, RecordedCustomer, customer_id)
    if customer is not None and party.name and not customer.name:
        customer.name = party.name
        session.add(customer)
    for kind, value in identities:
        if (kind, value) not in known:
            session.add(
                CustomerIdentity(
                    tenant_id=tenant_id, kind=kind, value=value, customer_id=customer_id
                )
            )
            owners.owner[(tenant_id, kind, value)] = customer_id
    return customer_id


async def _look_up(
    session: AsyncSession, owners: Owners, tenant_id: str, values: list[str]
) -> None:
    """Learn the owners of `values` not looked up yet in this transaction."""
    missing = [value for value in values if (tenant_id, value) not in owners.looked_up]
    if missing:
        rows = await session.exec(
            select(CustomerIdentity).where(
                CustomerIdentity.tenant_id == tenant_id, col(CustomerIdentity.value).in_(missing)
            )
        )
        owners.learn(tenant_id, missing, rows)


def identities_changed(session: AsyncSession) -> None:
    """This transaction changed identities other than by `link`: look them up again."""
    session.info.pop(Owners, None)


async def find(
    session: AsyncSession,
    *,
    tenant_id: str,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
) -> list[RecordedCustomer]:
    query = select(RecordedCustomer).where(
        RecordedCustomer.tenant_id == tenant_id, col(RecordedCustomer.merged_into).is_(None)
    )
    if email or phone:
        kind, value = ("email", email.strip().casefold()) if email else ("phone", phone or "")
        owners = select(CustomerIdentity.customer_id).where(
            CustomerIdentity.tenant_id == tenant_id,
            CustomerIdentity.kind == kind,
            CustomerIdentity.value == value,
        )
        query = query.where(col(RecordedCustomer.customer_id).in_(owners))
    if name:
        query = query.where(col(RecordedCustomer.name).ilike(f"%{name}%"))
    return list(await session.exec(query.order_by(col(RecordedCustomer.created_at)).limit(100)))


async def get(
    session: AsyncSession, *, tenant_id: str, customer_id: str
) -> RecordedCustomer | None:
    row = await session.get(RecordedCustomer, customer_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def identities(session: AsyncSession, customer_id: str) -> list[CustomerIdentity]:
    query = select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
    return list(await session.exec(query.order_by(col(CustomerIdentity.id))))


async def merged_into(session: AsyncSession, customer_id: str) -> list[str]:
    """The customers merged into this one."""
    query = select(RecordedCustomer.customer_id).where(RecordedCustomer.merged_into == customer_id)
    return list(await session.exec(query))


async def contacts(session: AsyncSession, customer_id: str) -> list[RecordedContact]:
    query = select(RecordedContact).where(RecordedContact.customer_id == customer_id)
    return list(await session.exec(query.order_by(col(RecordedContact.received_at))))


async def merge(
    session: AsyncSession, *, tenant_id: str, keep: str, absorb: str, actor: str, reason: str
) -> None:
    """Move `absorb`'s identities and contacts to `keep`; `absorb` remains, pointing at `keep`."""
    identities_changed(session)
    for model in (CustomerIdentity, RecordedContact):
        await session.exec(
            update(model).where(col(model.customer_id) == absorb).values(customer_id=keep)
        )
    absorbed = await session.get(RecordedCustomer, absorb)
    if absorbed is not None:
        absorbed.merged_into = keep
        session.add(absorbed)
    for customer_id in (keep, absorb):
        audit(
            session,
            tenant_id=tenant_id,
            customer_id=customer_id,
            actor=actor,
            action="merge",
            reason=reason,
            details={"kept": keep, "absorbed": absorb},
        )


def audit(
    session: AsyncSession,
    *,
    tenant_id: str,
    customer_id: str,
    actor: str,
    action: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AccessAudit(
            tenant_id=tenant_id,
            customer_id=customer_id,
            actor=actor,
            action=action,
            reason=reason,
            details=details or {},
        )
    )


async def correct(
    session: AsyncSession,
    *,
    event_id: str,
    tenant_id: str,
    customer_id: str,
    field: str,
    old_value: str | None,
    new_value: str,
    reason: str,
    actor: str,
    at: datetime,
) -> None:
    """Apply a correction, keeping the old value in the history (and the change in the audit)."""
    await write_pending(session)  # the batch's contacts as recorded so far, before changing them
    customer = await get(session, tenant_id=tenant_id, customer_id=customer_id)
    if customer is None:
        raise LookupError(f"no customer {customer_id}")
    if field == "name":
        old_value, customer.name = customer.name, new_value
        session.add(customer)
    else:
        rows = await session.exec(
            select(CustomerIdentity).where(
                CustomerIdentity.customer_id == customer_id,
                CustomerIdentity.kind == field,
                CustomerIdentity.value == normalised(field, old_value or ""),
            )
        )
        identity = rows.first()
        if identity is None:
            raise LookupError(f"customer {customer_id} has no {field} {old_value!r}")
        identity.value = normalised(field, new_value)
        session.add(identity)
        identities_changed(session)
    session.add(
        CustomerCorrection(
            event_id=event_id,
            tenant_id=tenant_id,
            customer_id=customer_id,
            field=field,
            old_value=old_value,
            new_value=new_value,
            reason=reason,
            actor=actor,
            at=at,
        )
    )
    audit(
        session,
        tenant_id=tenant_id,
        customer_id=customer_id,
        actor=actor,
        action="correct",
        reason=reason,
        details={"field": field},
    )


async def corrections(session: AsyncSession, customer_id: str) -> list[CustomerCorrection]:
    query = select(CustomerCorrection).where(CustomerCorrection.customer_id == customer_id)
    return list(await session.exec(query.order_by(col(CustomerCorrection.at))))


async def audit_trail(session: AsyncSession, customer_id: str) -> list[AccessAudit]:
    query = select(AccessAudit).where(AccessAudit.customer_id == customer_id)
    return list(await session.exec(query.order_by(col(AccessAudit.id))))
