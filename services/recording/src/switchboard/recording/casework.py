"""What grows out of a contact beyond its own record: follow-ups promised and kept, complaints,
improvement items agents noted, field jobs asked for (a mirror of dispatch's), and the customer's
survey answers. Each row is written once, from its event, however often the event is delivered
(the framework's idempotency ledger); later events only move it forward."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, aware
from switchboard.common.events.desktop import (
    ComplaintRaised,
    FollowUpDone,
    FollowUpPromised,
    ImprovementNoted,
    JobRequested,
)
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.records import SurveyResponded

DEIDENTIFIED = "[de-identified]"


class RecordedFollowUp(SQLModel, table=True):
    __tablename__ = "recording_follow_up"

    follow_up_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    agent_id: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=16)
    promised_at: datetime | None = None
    due_at: datetime | None = Field(default=None, index=True)
    done_at: datetime | None = None
    done_by: str | None = Field(default=None, max_length=64)
    note: str | None = None


class RecordedComplaint(SQLModel, table=True):
    __tablename__ = "recording_complaint"

    complaint_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    raised_by: str = Field(max_length=64)
    raised_at: datetime
    category: str = Field(max_length=64)
    summary: str


class RecordedImprovement(SQLModel, table=True):
    __tablename__ = "recording_improvement"

    improvement_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    noted_by: str = Field(max_length=64)
    noted_at: datetime = Field(index=True)
    category: str = Field(max_length=64)
    description: str


class RecordedJob(SQLModel, table=True):
    """Field jobs asked for from contacts, as far as recording knows them."""

    __tablename__ = "recording_job"

    job_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str | None = Field(default=None, max_length=36, index=True)
    requested_by: str | None = Field(default=None, max_length=64)
    """The agent who asked for it (none for a job a dispatcher entered)."""
    requested_at: datetime
    work_type: str = Field(max_length=64)
    priority: str = Field(max_length=16)
    status: str = Field(default="requested", max_length=16)
    status_at: datetime | None = None
    """When dispatch's latest status change happened (an older one arriving late is ignored)."""
    technician_id: str | None = Field(default=None, max_length=64)


class SurveyResponse(SQLModel, table=True):
    __tablename__ = "recording_survey_response"

    event_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    responded_at: datetime
    csat: int | None = None
    nps: int | None = None
    comment: str | None = None
    source: str = Field(max_length=200)


async def _follow_up(
    session: AsyncSession, event: Envelope[Any], follow_up_id: str
) -> RecordedFollowUp:
    """The follow-up's row, made by whichever of its promise and its keeping arrives first (they
    travel on different topics)."""
    return await session.get(RecordedFollowUp, follow_up_id) or RecordedFollowUp(
        follow_up_id=follow_up_id, tenant_id=event.tenant_id, contact_id=event.about_contact_id
    )


async def follow_up_promised(session: AsyncSession, event: Envelope[FollowUpPromised]) -> None:
    promised = event.payload
    row = await _follow_up(session, event, promised.follow_up_id)
    row.agent_id, row.channel, row.note = promised.agent_id, promised.channel, promised.note
    row.promised_at, row.due_at = event.occurred_at, promised.due_at
    session.add(row)


async def follow_up_done(session: AsyncSession, event: Envelope[FollowUpDone]) -> None:
    """Kept; it may arrive before its promise, which then fills in the rest."""
    done = event.payload
    row = await _follow_up(session, event, done.follow_up_id)
    row.done_at, row.done_by = event.occurred_at, done.agent_id
    session.add(row)


def complaint(event: Envelope[ComplaintRaised]) -> RecordedComplaint:
    raised = event.payload
    return RecordedComplaint(
        complaint_id=raised.complaint_id,
        tenant_id=event.tenant_id,
        contact_id=event.about_contact_id,
        raised_by=raised.agent_id,
        raised_at=event.occurred_at,
        category=raised.category,
        summary=raised.summary,
    )


def improvement(event: Envelope[ImprovementNoted]) -> RecordedImprovement:
    noted = event.payload
    return RecordedImprovement(
        improvement_id=noted.improvement_id,
        tenant_id=event.tenant_id,
        contact_id=event.about_contact_id,
        noted_by=noted.agent_id,
        noted_at=event.occurred_at,
        category=noted.category,
        description=noted.description,
    )


async def _mirrored(
    session: AsyncSession, event: Envelope[Any], job_id: str, work_type: str, priority: str
) -> RecordedJob:
    """The job's mirror row, made by whichever of its request and its changes arrives first
    (they travel on different topics)."""
    return await session.get(RecordedJob, job_id) or RecordedJob(
        job_id=job_id,
        tenant_id=event.tenant_id,
        contact_id=event.contact_id,
        requested_at=event.occurred_at,
        work_type=work_type,
        priority=priority,
    )


async def job_requested(session: AsyncSession, event: Envelope[JobRequested]) -> None:
    requested = event.payload
    row = await _mirrored(session, event, requested.job_id, requested.work_type, requested.priority)
    row.requested_by, row.requested_at = requested.agent_id, event.occurred_at
    session.add(row)


async def job_status(session: AsyncSession, event: Envelope[JobStatusChanged]) -> None:
    """Dispatch's latest word on the job; a change older than the one recorded is ignored."""
    change = event.payload
    row = await _mirrored(session, event, change.job_id, change.work_type, change.priority)
    if row.requested_by is None:
        row.requested_by = change.requested_by
    at = aware(event.occurred_at)
    if row.status_at is None or aware(row.status_at) <= at:
        row.status, row.status_at, row.technician_id = change.status, at, change.technician_id
    session.add(row)


def survey(event: Envelope[SurveyResponded]) -> SurveyResponse:
    answer = event.payload
    return SurveyResponse(
        event_id=event.event_id,
        tenant_id=event.tenant_id,
        contact_id=event.about_contact_id,
        responded_at=event.occurred_at,
        csat=answer.csat,
        nps=answer.nps,
        comment=answer.comment,
        source=answer.source,
    )


async def deidentify(session: AsyncSession, contact_ids: list[str]) -> None:
    """Blank the free text written about these contacts (it may name the customer); what the KPIs
    and the complaint and improvement counts need stays."""
    blanks: list[tuple[Any, dict[str, Any]]] = [
        (RecordedFollowUp, {"note": None}),
        (RecordedComplaint, {"summary": DEIDENTIFIED}),
        (RecordedImprovement, {"description": DEIDENTIFIED}),
        (SurveyResponse, {"comment": None}),
    ]
    for table, values in blanks:
        await session.exec(
            update(table).where(col(table.contact_id).in_(contact_ids)).values(**values)
        )


async def of_contacts(session: AsyncSession, contact_ids: list[str]) -> dict[str, list[Any]]:
    """Everything of these kinds attached to the contacts (for a customer's export)."""
    found: dict[str, list[Any]] = {}
    for name, table in (
        ("follow_ups", RecordedFollowUp),
        ("complaints", RecordedComplaint),
        ("improvements", RecordedImprovement),
        ("jobs", RecordedJob),
        ("surveys", SurveyResponse),
    ):
        rows = await session.exec(select(table).where(col(table.contact_id).in_(contact_ids)))
        found[name] = [r.model_dump(mode="json") for r in rows]
    return found
