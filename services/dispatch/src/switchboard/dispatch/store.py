"""Dispatch's tables: the tenants' dispatch policies, technicians, jobs and their deployment log,
and the deadlines (confirmation, chase, ETA replies) the loop fires. The messages are
`messages_store`'s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel, col, delete, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.common.teams_config import DispatchConfig


class DispatchTenant(SQLModel, table=True):
    """A tenant's dispatch policy (the centre YAML's `dispatch:`) and time zone."""

    __tablename__ = "dispatch_tenant"

    tenant_id: str = Field(primary_key=True, max_length=64)
    timezone: str = Field(max_length=64)
    policy: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))

    @property
    def config(self) -> DispatchConfig:
        return DispatchConfig.model_validate(self.policy)


class Technician(SQLModel, table=True):
    __tablename__ = "dispatch_technician"

    technician_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    skills: list[str] = Field(sa_column=Column(JSON, nullable=False))
    shifts: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    teams: list[str] = Field(sa_column=Column(JSON, nullable=False))
    home_lat: float
    home_lon: float
    lat: float
    """Last known location."""
    lon: float
    located_at: datetime | None = None
    medium: str = Field(max_length=32)
    address: str = Field(max_length=320)
    """Where the medium reaches them: an email address or a phone number."""


class Job(SQLModel, table=True):
    __tablename__ = "dispatch_job"
    __table_args__ = (Index("ix_dispatch_job_tenant_status", "tenant_id", "status"),)

    job_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    contact_id: str | None = Field(default=None, max_length=36)
    requested_by: str | None = Field(default=None, max_length=64)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_phone: str | None = Field(default=None, max_length=40)
    site_name: str | None = Field(default=None, max_length=200)
    address: str = Field(max_length=400)
    lat: float
    lon: float
    work_type: str = Field(max_length=64)
    skills: list[str] = Field(sa_column=Column(JSON, nullable=False))
    estimated_minutes: int
    window_start: datetime
    window_end: datetime
    priority: str = Field(max_length=16)
    payment_method: str | None = Field(default=None, max_length=32)
    payment_token: str | None = Field(default=None, max_length=128)
    special_instructions: str | None = Field(default=None, max_length=2000)
    eta_rule: bool = False
    """Offered to several technicians for their ETA instead of assigned outright."""
    status: str = Field(default="created", max_length=16)
    technician_id: str | None = Field(default=None, index=True, max_length=64)
    planned_start: datetime | None = None
    travel_minutes: float | None = None
    pinned: bool = False
    needs_dispatcher: bool = False
    tried: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Technicians this job has been despatched to and who did not take it."""
    correlation_id: str = Field(max_length=36)
    last_event_id: str = Field(max_length=36)
    trace_parent: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Deployment(SQLModel, table=True):
    """The deployment log: every move of a job, who made it and why."""

    __tablename__ = "dispatch_deployment"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
    action: str = Field(max_length=32)
    technician_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=1000)
    actor: str = Field(max_length=200)


class Deadline(SQLModel, table=True):
    """Something that must happen by a time: a despatched job confirmed (else re-despatched), a
    communication answered (else chased), ETA replies in (else the earliest so far is picked)."""

    __tablename__ = "dispatch_deadline"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    ref: str = Field(index=True, max_length=36)
    technician_id: str | None = Field(default=None, max_length=64)
    due_at: datetime = Field(index=True)


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    """The tenants' dispatch policies and the technicians, as configured. A technician's last known
    location survives (it comes from the field, not the configuration)."""
    for tenant in centre.tenants:
        row = await session.get(DispatchTenant, tenant.id) or DispatchTenant(
            tenant_id=tenant.id, timezone=tenant.timezone, policy={}
        )
        row.timezone, row.policy = tenant.timezone, tenant.dispatch.model_dump(mode="json")
        session.add(row)
    for config in centre.technicians:
        tech = await session.get(Technician, config.id)
        if tech is None:
            tech = Technician(
                technician_id=config.id,
                tenant_id=config.tenant,
                name=config.name,
                skills=[],
                shifts=[],
                teams=[],
                home_lat=config.home.lat,
                home_lon=config.home.lon,
                lat=config.home.lat,
                lon=config.home.lon,
                medium=config.medium,
                address=config.address,
            )
        tech.tenant_id, tech.name = config.tenant, config.name
        tech.skills, tech.teams = sorted(config.skills), sorted(config.teams)
        tech.shifts = [s.model_dump(mode="json") for s in config.shifts]
        tech.home_lat, tech.home_lon = config.home.lat, config.home.lon
        tech.medium, tech.address = config.medium, config.address
        session.add(tech)


async def tenant(session: AsyncSession, *, tenant_id: str) -> DispatchTenant:
    row = await session.get(DispatchTenant, tenant_id)
    if row is None:
        raise LookupError(f"tenant {tenant_id!r} has no dispatch policy (run switchboard seed)")
    return row


async def lock_tenant(session: AsyncSession, *, tenant_id: str) -> DispatchTenant:
    """Serialise the tenant's despatch decisions across replicas (PostgreSQL; SQLite has one writer
    anyway): a choice of technician reads every technician's load, so two made at once could give
    one technician two jobs for the same time. Taken before any job's lock, always, so two
    transactions never wait on each other in opposite orders."""
    rows = await session.exec(
        select(DispatchTenant).where(DispatchTenant.tenant_id == tenant_id).with_for_update()
    )
    row = rows.first()
    if row is None:
        raise LookupError(f"tenant {tenant_id!r} has no dispatch policy (run switchboard seed)")
    return row


async def technicians(session: AsyncSession, *, tenant_id: str) -> list[Technician]:
    rows = await session.exec(
        select(Technician)
        .where(Technician.tenant_id == tenant_id)
        .order_by(col(Technician.technician_id))
    )
    return list(rows.all())


async def active_jobs(session: AsyncSession, *, tenant_id: str) -> list[Job]:
    """Jobs held by technicians (despatched and not finished), earliest first."""
    rows = await session.exec(
        select(Job)
        .where(
            Job.tenant_id == tenant_id,
            col(Job.status).in_(("despatched", "confirmed", "en_route", "on_site")),
        )
        .order_by(col(Job.planned_start), col(Job.job_id))
    )
    return list(rows.all())


async def job_for_update(session: AsyncSession, *, job_id: str) -> Job | None:
    rows = await session.exec(select(Job).where(Job.job_id == job_id).with_for_update())
    return rows.first()


async def log(
    session: AsyncSession,
    *,
    job: Job,
    action: str,
    actor: str,
    reason: str = "",
    technician_id: str | None = None,
) -> None:
    session.add(
        Deployment(
            job_id=job.job_id,
            tenant_id=job.tenant_id,
            action=action,
            actor=actor,
            reason=reason[:1000],
            technician_id=technician_id,
        )
    )


async def deployments(session: AsyncSession, *, job_id: str) -> list[Deployment]:
    rows = await session.exec(
        select(Deployment).where(Deployment.job_id == job_id).order_by(col(Deployment.id))
    )
    return list(rows.all())


async def tenants_due(session: AsyncSession, *, now: datetime) -> list[str]:
    """The tenants with deadlines due (read without locks; each is then fired under its tenant's
    lock)."""
    rows = await session.exec(select(Deadline.tenant_id).where(Deadline.due_at <= now).distinct())
    return list(rows.all())


async def due_deadlines(
    session: AsyncSession, *, now: datetime, limit: int, tenant_id: str
) -> list[Deadline]:
    rows = await session.exec(
        select(Deadline)
        .where(Deadline.due_at <= now, Deadline.tenant_id == tenant_id)
        .order_by(col(Deadline.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def next_deadline(session: AsyncSession) -> datetime | None:
    rows = await session.exec(select(Deadline.due_at).order_by(col(Deadline.due_at)).limit(1))
    return rows.first()


async def drop_deadlines(session: AsyncSession, *, kind: str, ref: str) -> None:
    await session.exec(delete(Deadline).where(col(Deadline.kind) == kind, col(Deadline.ref) == ref))


async def jobs_by_status(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.exec(select(Job.status, func.count()).group_by(col(Job.status)))
    return [(status, count) for status, count in rows.all()]


async def jobs_of(
    session: AsyncSession,
    *,
    tenant_id: str,
    status: str | None = None,
    needs_dispatcher: bool | None = None,
    limit: int = 1000,
) -> list[Job]:
    """The tenant's jobs, oldest first, of a status and needing a dispatcher or not if asked."""
    query = select(Job).where(Job.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Job.status == status)
    if needs_dispatcher is not None:
        query = query.where(Job.needs_dispatcher == needs_dispatcher)
    return list((await session.exec(query.order_by(col(Job.created_at)).limit(limit))).all())


async def unstarted_before(
    session: AsyncSession, *, tenant_id: str, statuses: tuple[str, ...], before: datetime
) -> list[Job]:
    """The tenant's jobs in `statuses` whose window opens before `before`, by id."""
    rows = await session.exec(
        select(Job)
        .where(
            Job.tenant_id == tenant_id,
            col(Job.status).in_(statuses),
            col(Job.window_start) < before,
        )
        .order_by(col(Job.job_id))
    )
    return list(rows.all())


async def jobs_of_contacts(
    session: AsyncSession,
    *,
    contact_ids: list[str],
    tenant_id: str | None = None,
    with_phone: bool = False,
) -> list[Job]:
    """The jobs asked for from the contacts; with `with_phone`, also every job of the tenant with
    a customer's number (for the caller to match against the number being erased)."""
    about = col(Job.contact_id).in_(contact_ids)
    query = select(Job).where(
        or_(about, col(Job.customer_phone).is_not(None)) if with_phone else about
    )
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    return list((await session.exec(query)).all())
