"""Rows our own loops could not process, set aside with the reason, so the rows behind them flow on.

Kafka consumers dead-letter to `<topic>.dlq`; the loops of our own (the outbox relay, dispatch's
deliveries and deadlines, escalation's timers) have rows instead, and a row that can never succeed
(an event over the broker's message limit, a job sheet no mail system will take) must not be retried
in front of every row after it. Such a row is recorded here, with its reason, in the transaction
that takes it out of its loop:

- moved: the row is deleted from its own table and kept here whole (`row`), to be put back by
  `switchboard dlq put-back` once the cause is fixed (the outbox, timers, deadlines);
- marked: the row stays where it is (a job sheet is part of the job's record) and its loop skips
  every `ref` set aside for it (`skipped(loop)`); putting it back is deleting the mark.

`switchboard status` counts them per service, `switchboard dlq set-aside` lists them, and each
service counts them in `switchboard_set_aside_total{loop}`.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import JSON, Column, Index, Text, delete, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from switchboard.common.compliance.redaction import redact
from switchboard.common.delivery import classify, reason
from switchboard.common.envelope import utcnow

log = structlog.get_logger("switchboard.setaside")


class SetAside(SQLModel, table=True):
    __tablename__ = "set_aside"
    __table_args__ = (Index("ix_set_aside_loop_ref", "loop", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=64, index=True)
    loop: str = Field(max_length=64)
    """Which loop gave up on it: `outbox`, `dispatch.delivery`, `escalation.timer` ..."""
    ref: str = Field(max_length=255)
    """The row's id in its own table."""
    reason: str = Field(sa_column=Column(Text, nullable=False))
    error_type: str = Field(max_length=128)
    attempts: int = 1
    set_aside_at: datetime = Field(default_factory=utcnow)
    row_table: str | None = Field(default=None, max_length=64)
    row: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """A moved row as it was, to be put back."""


_COUNTERS: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()


def counter(registry: CollectorRegistry) -> Counter:
    """`switchboard_set_aside_total{loop}` of the service's registry (one for all its loops)."""
    if registry not in _COUNTERS:
        _COUNTERS[registry] = Counter(
            "switchboard_set_aside",
            "Rows a loop of this service gave up on and set aside with the reason",
            ["loop"],
            registry=registry,
        )
    return _COUNTERS[registry]


class Attempts:
    """A loop's failures per row, counted in this process: when to give up on a row. A failure of
    the infrastructure (`classify` says transient) never gives up: it is waited out."""

    def __init__(self, max_attempts: int = 5) -> None:
        self.max_attempts = max_attempts
        self._failures: dict[str, int] = {}

    def failed(self, ref: str, error: BaseException) -> bool:
        """Count a failure; True when the row should be set aside now."""
        kind = classify(error)
        if kind == "transient":
            return False
        count = self._failures[ref] = self._failures.get(ref, 0) + 1
        return kind == "permanent" or count >= self.max_attempts

    def count(self, ref: str) -> int:
        return max(1, self._failures.get(ref, 0))

    def forget(self, ref: str) -> None:
        self._failures.pop(ref, None)


async def one_by_one(
    refs: list[str],
    apply: Callable[[str], Awaitable[object]],
    give_up: Callable[[str, BaseException], Awaitable[object]],
    attempts: Attempts,
) -> int:
    """After a batch failed: apply each ref on its own (each in its own transaction), so one that
    cannot be applied holds up nothing; one that keeps failing is given up (`give_up` sets it
    aside). A transient failure is raised for the loop to wait out. Returns how many were applied."""
    applied = 0
    for ref in refs:
        try:
            await apply(ref)
        except Exception as error:
            if classify(error) == "transient":
                raise
            if attempts.failed(ref, error):
                await give_up(ref, error)
                attempts.forget(ref)
            continue
        attempts.forget(ref)
        applied += 1
    return applied


async def set_aside(
    session: AsyncSession,
    *,
    service: str,
    loop: str,
    ref: str,
    error: BaseException,
    attempts: int = 1,
    row: SQLModel | None = None,
) -> SetAside:
    """Record that `loop` gave up on `ref`, in the caller's transaction; with `row`, move it here."""
    entry = SetAside(
        service=service,
        loop=loop,
        ref=ref,
        reason=redact(reason(error)),
        error_type=type(error).__name__,
        attempts=attempts,
    )
    if row is not None:
        entry.row_table = str(getattr(row, "__tablename__", type(row).__name__))
        entry.row = row.model_dump(mode="json")
        await session.delete(row)
    session.add(entry)
    log.error("row set aside", loop=loop, ref=ref, reason=entry.reason, attempts=attempts)
    return entry


def skipped(loop: str) -> SelectOfScalar[str]:
    """The refs set aside for `loop`, for its query's `NOT IN`."""
    return select(SetAside.ref).where(SetAside.loop == loop)


async def listed(session: AsyncSession, *, service: str | None = None) -> list[SetAside]:
    query = select(SetAside).order_by(col(SetAside.id))
    if service is not None:
        query = query.where(SetAside.service == service)
    return list((await session.exec(query)).all())


async def counts(session: AsyncSession) -> dict[str, int]:
    """Rows set aside, per service."""
    rows = await session.exec(
        select(SetAside.service, func.count()).group_by(col(SetAside.service))
    )
    return {service: int(count) for service, count in rows.all()}


async def put_back(
    session: AsyncSession, ids: list[int] | None = None, *, service: str | None = None
) -> int:
    """Return set-aside rows (all, or those with these ids, of one service or all) to their
    loops; how many."""
    query = select(SetAside)
    if ids is not None:
        query = query.where(col(SetAside.id).in_(ids))
    if service is not None:
        query = query.where(col(SetAside.service) == service)
    entries = list((await session.exec(query)).all())
    for entry in entries:
        if entry.row_table is not None and entry.row is not None:
            session.add(_restored(entry.row_table, entry.row))
    if entries:
        await session.exec(delete(SetAside).where(col(SetAside.id).in_([e.id for e in entries])))
    return len(entries)


def _restored(table: str, row: dict[str, Any]) -> SQLModel:
    """The row as it was; an integer key the database assigns is assigned anew (the old one may
    have been taken since)."""
    for mapper in SQLModel._sa_registry.mappers:
        if getattr(mapper.local_table, "name", None) == table:
            model: type[SQLModel] = mapper.class_
            keys = [column.name for column in mapper.primary_key]
            data = dict(row)
            if keys == ["id"] and isinstance(data.get("id"), int):
                data.pop("id")
            return model.model_validate(data)
    raise LookupError(f"no table {table!r} in this build to put the row back into")
