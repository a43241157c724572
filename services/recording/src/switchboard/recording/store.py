"""Recording's tables: contacts and their append-only timelines."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Column, Index, Table, Text, bindparam, insert, inspect, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch
from switchboard.common.db import per_session
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


def record(
    session: AsyncSession,
    *,
    contact_id: str,
    tenant_id: str,
    facts: ContactFacts,
    entry: dict[str, Any],
) -> PendingRecords:
    """Apply one event: merge its facts into the contact and append its timeline entry (a
    `TimelineEntry` row's values). Both are written when the transaction finishes
    (`PendingRecords.write`, which the caller hands to `Transaction.before_commit`), with every
    other event of its batch."""
    pending = per_session(session, PendingRecords)
    pending.items.append((contact_id, tenant_id, facts, entry))
    return pending


class PendingRecords:
    """A transaction's merges and timeline entries, written together: one read of the contacts the
    batch touches (locked on PostgreSQL), one upsert of them and one insert of the entries, where
    writing each event on its own took three or four round trips (measured: recording spent most
    of its time in them). Rows are written as plain values: building a table model for each (an
    ORM object, validated) was a tenth of recording's work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.items: list[tuple[str, str, ContactFacts, dict[str, Any]]] = []

    async def write(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        await self.session.flush()  # ORM changes first: the read below must see them
        connection = await self.session.connection()
        statements = _batch_statements(connection.dialect.name)
        ids = list(dict.fromkeys(contact_id for contact_id, *_ in items))
        tenants = {contact_id: tenant_id for contact_id, tenant_id, *_ in items}
        # A contact not recorded yet has no row to lock: another batch about it (on another topic,
        # so maybe another replica) would read nothing too, and the later upsert would overwrite the
        # earlier one's facts. A bare row first makes the lock below take: the second batch waits
        # on the first's insert, then reads what it wrote.
        await connection.execute(
            statements.bare_rows,
            [{**_BARE_CONTACT, "contact_id": c, "tenant_id": tenants[c]} for c in ids],
        )
        current: dict[str, dict[str, Any]] = {}
        for chunk in prefetch.in_lists(ids):
            rows = await connection.execute(statements.locked_rows, {"ids": chunk})
            current.update({row["contact_id"]: dict(row) for row in rows.mappings()})
        for contact_id, tenant_id, facts, _ in items:
            record = current.get(contact_id) or {"contact_id": contact_id, "tenant_id": tenant_id}
            current[contact_id] = merge(record, facts)
        values = [{name: current[c].get(name, v) for name, v in _BARE_CONTACT.items()} for c in ids]
        await connection.execute(statements.upsert, values)
        await connection.execute(
            statements.timeline, [{**_NO_DETAILS, **entry} for *_, entry in items]
        )


class _BatchStatements(NamedTuple):
    bare_rows: Any
    locked_rows: Any
    upsert: Any
    timeline: Any


@functools.cache
def _batch_statements(dialect: str) -> _BatchStatements:
    """A batch's four statements, built once per dialect: building the upsert alone (its
    `excluded` names every column anew) was about a twentieth of recording's CPU in a burst
    (py-spy, `deploy/CAPACITY.md`, the eleventh round), and a statement built anew is also keyed
    anew for SQLAlchemy's compiled cache each time."""
    table = _table(RecordedContact)
    insert_into = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert_into(table)
    return _BatchStatements(
        bare_rows=insert_into(table).on_conflict_do_nothing(index_elements=[table.c.contact_id]),
        locked_rows=sa_select(table)
        .where(table.c.contact_id.in_(bindparam("ids", expanding=True)))
        .with_for_update(),
        upsert=upsert.on_conflict_do_update(
            index_elements=[table.c.contact_id],
            set_={c.name: upsert.excluded[c.name] for c in table.columns if not c.primary_key},
        ),
        timeline=insert(_table(TimelineEntry)),
    )


_BARE_CONTACT = RecordedContact(contact_id="", tenant_id="", status="received").model_dump()
"""Every column of a contact's row, with its default: a contact not recorded yet."""
_NO_DETAILS: dict[str, Any] = {"causation_id": None, "details": {}}
"""A timeline entry's columns that an event may leave out."""


async def write_pending(session: AsyncSession) -> None:
    """Write what this transaction has recorded so far (before reading or changing contacts in
    another way within it)."""
    pending = session.info.get(PendingRecords)
    if pending is not None:
        await pending.write()


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, inspect(model).local_table)


async def call_ended_at(session: AsyncSession, *, contact_id: str) -> datetime | None:
    """When the contact's call ended, as recorded or as recorded by this transaction so far
    (without writing its batch early)."""
    pending: PendingRecords | None = session.info.get(PendingRecords)
    for pending_id, _, facts, _ in pending.items if pending is not None else ():
        if pending_id == contact_id and facts.ended_at is not None:
            return facts.ended_at
    row = await prefetch.find(session, RecordedContact, contact_id)
    return None if row is None else row.ended_at


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
    session: AsyncSession, *, tenant_id: str, start: datetime, end: datetime, page: int = 1000
) -> AsyncIterator[list[RecordedContact]]:
    """The tenant's contacts received in [start, end), oldest first, a page at a time (keyset
    paging, so a long period never sits in memory: each page leaves the session once the caller
    asks for the next)."""
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
        for row in rows:
            session.expunge(row)
        last = rows[-1]
        assert last.received_at is not None
        after = (last.received_at, last.contact_id)
