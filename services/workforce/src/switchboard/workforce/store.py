"""Workforce's tables and every query on them: the tenants' calendars and rules, the history per
interval, agents' state spans, forecasts, rosters and what was last published."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import aware, utcnow
from switchboard.workforce import domain


class WorkforceTenant(SQLModel, table=True):
    """A tenant's calendar (opening hours, holidays) and workforce rules, from the centre file."""

    __tablename__ = "wf_tenant"

    tenant_id: str = Field(primary_key=True, max_length=64)
    timezone: str = Field(max_length=64)
    config: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    hours: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    holidays: list[str] = Field(sa_column=Column(JSON, nullable=False))


class WorkforceQueue(SQLModel, table=True):
    __tablename__ = "wf_queue"

    tenant_id: str = Field(primary_key=True, max_length=64)
    queue_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    service_level_percent: int
    service_level_seconds: int
    skills: list[str] = Field(sa_column=Column(JSON, nullable=False))


class WorkforceAgent(SQLModel, table=True):
    __tablename__ = "wf_agent"

    agent_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    team: str | None = Field(default=None, max_length=64)
    skills: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    alerted_for: datetime | None = None
    """The out-of-adherence stretch (by its start) the team leader was last told of."""


class ContactTrack(SQLModel, table=True):
    """What is known of a contact (`domain.ContactFacts`), and the interval it first queued in,
    where its offer, answer, abandon and wrap-up count."""

    __tablename__ = "wf_contact"

    contact_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    queue_id: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=16)
    slot: datetime | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    waited_seconds: float | None = None
    abandoned_at: datetime | None = None
    wrapped_at: datetime | None = None


class IntervalStat(SQLModel, table=True):
    """One queue and channel's contacts that first queued in one interval (the history)."""

    __tablename__ = "wf_interval"

    tenant_id: str = Field(primary_key=True, max_length=64)
    queue_id: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=16)
    slot: datetime = Field(primary_key=True)
    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    answered_in_target: int = 0
    wait_seconds: float = 0.0
    wrapped: int = 0
    handle_seconds: float = 0.0


class StateSpan(SQLModel, table=True):
    """An agent's presence from `started_at` until `ended_at` (open: their state now)."""

    __tablename__ = "wf_state_span"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(index=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    state: str = Field(max_length=16)
    started_at: datetime = Field(index=True)
    ended_at: datetime | None = None


class ForecastRun(SQLModel, table=True):
    __tablename__ = "wf_forecast_run"

    run_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    start: date
    days: int
    interval_minutes: int
    history_days: int
    wape: float | None = None
    mape: float | None = None
    patience: dict[str, float | None] = Field(sa_column=Column(JSON, nullable=False))
    """Callers' mean patience per queue, in seconds (None: too few abandons: Erlang C)."""


class ForecastPoint(SQLModel, table=True):
    __tablename__ = "wf_forecast_point"

    run_id: str = Field(primary_key=True, max_length=36)
    queue_id: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=16)
    slot: datetime = Field(primary_key=True)
    contacts: float
    handle_seconds: float


class Roster(SQLModel, table=True):
    __tablename__ = "wf_roster"

    roster_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=64)
    week_start: date
    forecast_run_id: str = Field(max_length=36)
    status: str = Field(default="draft", max_length=16)
    """draft, published, or superseded (another roster of the week was published)."""
    shortfall: int
    optimal: bool
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


class ShiftRow(SQLModel, table=True):
    __tablename__ = "wf_shift"

    roster_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    start: datetime
    end: datetime
    activities: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    """[{start, end, kind}] with UTC ISO times."""


class Leave(SQLModel, table=True):
    """A day of leave entered through the API (leave in the centre file is read from there)."""

    __tablename__ = "wf_leave"

    agent_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    tenant_id: str = Field(index=True, max_length=64)
    reason: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Published(SQLModel, table=True):
    """What was last published under a key, so an unchanged picture is not sent again."""

    __tablename__ = "wf_published"

    key: str = Field(primary_key=True, max_length=200)
    digest: str = Field(max_length=64)


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    """The centre file's tenants, queues and agents (re-applied on every start)."""
    for tenant in centre.tenants:
        await session.merge(
            WorkforceTenant(
                tenant_id=tenant.id,
                timezone=tenant.timezone,
                config=tenant.workforce.model_dump(mode="json"),
                hours=[h.model_dump(mode="json") for h in tenant.escalation.hours],
                holidays=[d.isoformat() for d in tenant.escalation.holidays],
            )
        )
        for queue in tenant.queues:
            await session.merge(
                WorkforceQueue(
                    tenant_id=tenant.id,
                    queue_id=queue.id,
                    name=queue.name,
                    service_level_percent=queue.service_level_percent,
                    service_level_seconds=queue.service_level_seconds,
                    skills=sorted(queue.skills),
                )
            )
    for agent in centre.agents:
        known = await session.get(WorkforceAgent, agent.id)
        if not any(agent.capacity.values()):  # takes no contacts (a quality analyst): not rostered
            if known is not None:
                await session.delete(known)
            continue
        await session.merge(
            WorkforceAgent(
                agent_id=agent.id,
                tenant_id=agent.tenants[0],
                name=agent.name,
                team=agent.team,
                skills=agent.skills,
                alerted_for=known.alerted_for if known else None,
            )
        )


async def tenants(session: AsyncSession) -> Sequence[WorkforceTenant]:
    return (await session.exec(select(WorkforceTenant))).all()


async def queues(session: AsyncSession, *, tenant_id: str) -> Sequence[WorkforceQueue]:
    query = select(WorkforceQueue).where(WorkforceQueue.tenant_id == tenant_id)
    return (await session.exec(query.order_by(col(WorkforceQueue.queue_id)))).all()


async def agents(session: AsyncSession, *, tenant_id: str) -> Sequence[WorkforceAgent]:
    query = select(WorkforceAgent).where(WorkforceAgent.tenant_id == tenant_id)
    return (await session.exec(query.order_by(col(WorkforceAgent.agent_id)))).all()


def facts_of(track: ContactTrack) -> domain.ContactFacts:
    return domain.ContactFacts(
        queue_id=track.queue_id,
        channel=track.channel,
        queued_at=_aware(track.queued_at),
        answered_at=_aware(track.answered_at),
        waited_seconds=track.waited_seconds,
        abandoned_at=_aware(track.abandoned_at),
        wrapped_at=_aware(track.wrapped_at),
    )


def set_facts(track: ContactTrack, facts: domain.ContactFacts, *, slot: datetime | None) -> None:
    for name, value in _values(facts):
        setattr(track, name, value)
    track.slot = slot


def _values(facts: domain.ContactFacts | domain.Figures) -> Iterator[tuple[str, Any]]:
    """Each field's name and value, as they are: `dataclasses.asdict` deep-copies every value, and
    copying the datetimes was a twentieth of workforce's CPU (py-spy, eighth round)."""
    return ((field.name, getattr(facts, field.name)) for field in fields(facts))


def _aware(at: datetime | None) -> datetime | None:
    return None if at is None else aware(at)


def add_figures(row: IntervalStat, figures: domain.Figures, *, sign: int) -> None:
    """Count one contact's figures in the interval (`sign` -1 takes them back out)."""
    for name, value in _values(figures):
        setattr(row, name, getattr(row, name) + sign * value)


async def stat(
    session: AsyncSession, *, tenant_id: str, queue_id: str, channel: str, slot: datetime
) -> IntervalStat:
    """The interval's row, made when first needed."""
    row = await session.get(IntervalStat, (tenant_id, queue_id, channel, slot))
    if row is None:
        row = IntervalStat(tenant_id=tenant_id, queue_id=queue_id, channel=channel, slot=slot)
        session.add(row)
    return row


async def history(
    session: AsyncSession, *, tenant_id: str, since: datetime, until: datetime
) -> Sequence[IntervalStat]:
    query = select(IntervalStat).where(
        IntervalStat.tenant_id == tenant_id,
        col(IntervalStat.slot) >= since,
        col(IntervalStat.slot) < until,
    )
    return (await session.exec(query.order_by(col(IntervalStat.slot)))).all()


async def add_history(session: AsyncSession, *, rows: list[IntervalStat]) -> None:
    """New rows of history (the demo's generated weeks)."""
    session.add_all(rows)


async def open_span(session: AsyncSession, *, agent_id: str) -> StateSpan | None:
    query = select(StateSpan).where(
        StateSpan.agent_id == agent_id, col(StateSpan.ended_at).is_(None)
    )
    return (await session.exec(query.order_by(col(StateSpan.started_at).desc()))).first()


async def spans(
    session: AsyncSession, *, tenant_id: str, since: datetime, until: datetime
) -> Sequence[StateSpan]:
    """Every agent's spans that overlap [since, until)."""
    query = select(StateSpan).where(
        StateSpan.tenant_id == tenant_id,
        col(StateSpan.started_at) < until,
        (col(StateSpan.ended_at).is_(None)) | (col(StateSpan.ended_at) > since),
    )
    return (await session.exec(query.order_by(col(StateSpan.started_at)))).all()


async def latest_forecast(session: AsyncSession, *, tenant_id: str) -> ForecastRun | None:
    query = select(ForecastRun).where(ForecastRun.tenant_id == tenant_id)
    return (await session.exec(query.order_by(col(ForecastRun.created_at).desc()))).first()


async def forecast_points(
    session: AsyncSession, *, run_id: str, since: datetime, until: datetime
) -> Sequence[ForecastPoint]:
    query = select(ForecastPoint).where(
        ForecastPoint.run_id == run_id,
        col(ForecastPoint.slot) >= since,
        col(ForecastPoint.slot) < until,
    )
    return (await session.exec(query)).all()


async def published_roster(
    session: AsyncSession, *, tenant_id: str, week_start: date
) -> Roster | None:
    query = select(Roster).where(
        Roster.tenant_id == tenant_id, Roster.week_start == week_start, Roster.status == "published"
    )
    return (await session.exec(query)).first()


async def shifts(
    session: AsyncSession, *, roster_id: str, day: date | None = None, agent_id: str | None = None
) -> Sequence[ShiftRow]:
    query = select(ShiftRow).where(ShiftRow.roster_id == roster_id)
    if day is not None:
        query = query.where(ShiftRow.day == day)
    if agent_id is not None:
        query = query.where(ShiftRow.agent_id == agent_id)
    return (await session.exec(query.order_by(col(ShiftRow.agent_id), col(ShiftRow.day)))).all()


async def supersede(session: AsyncSession, *, tenant_id: str, week_start: date) -> None:
    """The week's published roster steps down (another is being published)."""
    current = await published_roster(session, tenant_id=tenant_id, week_start=week_start)
    if current is not None:
        current.status = "superseded"
        session.add(current)


async def changed(session: AsyncSession, *, key: str, digest: str) -> bool:
    """Whether `digest` differs from what was last published under `key` (and record it)."""
    row = await session.get(Published, key)
    if row is not None and row.digest == digest:
        return False
    session.add(Published(key=key, digest=digest) if row is None else row)
    if row is not None:
        row.digest = digest
    return True


async def leave(
    session: AsyncSession, *, tenant_id: str, since: date, until: date
) -> Sequence[Leave]:
    """Days of leave entered through the API, `since`..`until` inclusive."""
    query = select(Leave).where(
        Leave.tenant_id == tenant_id, col(Leave.day) >= since, col(Leave.day) <= until
    )
    return (await session.exec(query.order_by(col(Leave.day), col(Leave.agent_id)))).all()


async def take_turn(session: AsyncSession, *, key: int) -> bool:
    """Whether this transaction has the turn at `key` (a transaction's advisory lock on
    PostgreSQL, released when it ends; SQLite has one writer, so always)."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    connection = await session.connection()  # the transaction's own: the lock is released with it
    taken = await connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
    return bool(taken.scalar())
