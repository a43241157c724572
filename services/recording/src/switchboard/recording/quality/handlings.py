"""Each agent's handling of a contact, the unit of their scorecard: a contact escalated from one
agent to another is two handlings, each with its own handle time and outcome.

Events arrive in any order (assignment, wrap-up and the call's end travel on different topics), so
each fills in its own fields and the durations are worked out once both of their ends are known.
Only ids, times and outcomes are kept here: nothing a privacy request would have to erase.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch
from switchboard.common.envelope import aware
from switchboard.recording import store
from switchboard.recording.casework import RecordedComplaint, SurveyResponse
from switchboard.recording.quality.store import Evaluation


class Handling(SQLModel, table=True):
    __tablename__ = "recording_handling"

    contact_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(primary_key=True, max_length=64, index=True)
    tenant_id: str = Field(max_length=64, index=True)
    queue_id: str | None = Field(default=None, max_length=64)
    assigned_at: datetime | None = None
    wrapped_at: datetime | None = Field(default=None, index=True)
    ended_at: datetime | None = None
    """When the call ended (calls only): the start of after-call work."""
    disposition: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=64)
    notes_given: bool | None = None
    handle_seconds: float | None = None
    after_call_seconds: float | None = None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((aware(end) - aware(start)).total_seconds(), 3)


def _settle(row: Handling) -> None:
    row.handle_seconds = _seconds(row.assigned_at, row.wrapped_at)
    after = _seconds(row.ended_at, row.wrapped_at)
    inside = (
        row.assigned_at is None
        or row.ended_at is None
        or (aware(row.ended_at) >= aware(row.assigned_at))
    )
    row.after_call_seconds = after if after is not None and after >= 0 and inside else None


async def _row(
    session: AsyncSession, *, tenant_id: str, contact_id: str, agent_id: str
) -> Handling:
    """The handling, or a new one that knows when the call ended if that came first."""
    found = await prefetch.find(session, Handling, (contact_id, agent_id))
    if found is not None:
        return found
    ended_at = await store.call_ended_at(session, contact_id=contact_id)
    return Handling(
        contact_id=contact_id, agent_id=agent_id, tenant_id=tenant_id, ended_at=ended_at
    )


async def assigned(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    agent_id: str,
    queue_id: str,
    at: datetime,
) -> None:
    row = await _row(session, tenant_id=tenant_id, contact_id=contact_id, agent_id=agent_id)
    if row.assigned_at is None or aware(at) < aware(row.assigned_at):
        row.assigned_at, row.queue_id = at, queue_id
    _settle(row)
    session.add(row)


async def wrapped(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    agent_id: str,
    at: datetime,
    disposition: str,
    outcome: str | None,
    notes_given: bool,
) -> None:
    """The agent's last wrap-up of the contact is the one that counts."""
    row = await _row(session, tenant_id=tenant_id, contact_id=contact_id, agent_id=agent_id)
    if row.wrapped_at is None or aware(at) >= aware(row.wrapped_at):
        row.wrapped_at, row.disposition, row.outcome = at, disposition, outcome
        row.notes_given = notes_given
    _settle(row)
    session.add(row)


async def call_ended(session: AsyncSession, *, contact_id: str, at: datetime) -> None:
    """The call's end starts the after-call work of whoever has it."""
    rows = await session.exec(select(Handling).where(col(Handling.contact_id) == contact_id))
    for row in rows:
        row.ended_at = at
        _settle(row)
        session.add(row)


async def of_contact(session: AsyncSession, *, contact_id: str) -> list[Handling]:
    return list(await session.exec(select(Handling).where(col(Handling.contact_id) == contact_id)))


async def sample(
    session: AsyncSession,
    *,
    tenant_id: str,
    start: datetime,
    end: datetime,
    agent_id: str | None,
    kind: str,
    size: int,
    include_evaluated: bool,
    long_handle_seconds: float,
    low_csat: int,
) -> list[Handling]:
    """At most `size` handlings wrapped in [`start`, `end`), at random: any (`random`), or those
    with a complaint, a handle time over `long_handle_seconds`, or a CSAT at or below `low_csat`;
    of contacts not evaluated yet unless `include_evaluated`."""
    h = Handling
    query = select(h).where(
        col(h.tenant_id) == tenant_id, col(h.wrapped_at) >= start, col(h.wrapped_at) < end
    )
    if agent_id:
        query = query.where(col(h.agent_id) == agent_id)
    if not include_evaluated:
        done = select(Evaluation.contact_id).where(col(Evaluation.tenant_id) == tenant_id)
        query = query.where(col(h.contact_id).not_in(done))
    if kind == "complaints":
        query = query.where(col(h.contact_id).in_(select(RecordedComplaint.contact_id)))
    elif kind == "long_handle":
        query = query.where(col(h.handle_seconds) > long_handle_seconds)
    elif kind == "low_csat":
        low = select(SurveyResponse.contact_id).where(col(SurveyResponse.csat) <= low_csat)
        query = query.where(col(h.contact_id).in_(low))
    return list(await session.exec(query.order_by(func.random()).limit(size)))
