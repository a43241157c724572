"""The centre's KPIs over a period, each one aggregate query over `recording_contact` (never every
row loaded into Python), the same SQL on SQLite and PostgreSQL.

A contact belongs to the period in which it was received. Definitions (also in the API docs):

- offered: contacts queued for an agent, less short abandons (callers who hung up within the
  tenant's `short_abandon_seconds`, who count nowhere).
- service_level: contacts answered within their queue's target ÷ offered; when the tenant does not
  count abandons against it, abandoned contacts leave the denominator too.
- average_speed_of_answer: mean wait, from joining the line to being assigned, of answered contacts.
- average_handle_time: mean time from assignment to wrap-up, of wrapped contacts.
- abandonment_rate: contacts abandoned (after the short-abandon threshold) ÷ offered.
- first_contact_resolution: wrapped contacts resolved (`outcome` "resolved") with no later contact
  in the same conversation ÷ wrapped contacts.
- escalation_rate: contacts escalated ÷ offered.
- conversion_rate: outcome "sale" ÷ contacts with a sales opportunity (outcome "sale" or
  "no_sale").
- transfer_rate: contacts assigned to more than one agent (an agent escalated it to another
  queue) ÷ contacts assigned.
- csat: mean satisfaction (1-5) of the survey answers given about the period's contacts.
- nps: net promoter score of those answers: % promoters (9-10) minus % detractors (0-6), from -100 to 100.
- follow_ups_on_time: follow-ups promised on the period's contacts and kept by their due time ÷
  those whose due time has passed.
- retention_save_rate: contacts on which a customer who asked to leave accepted a retention offer
  ÷ contacts on which one was made.
- schedule_adherence: time agents spent in their rostered state ÷ rostered time, over the days
  of the period (from workforce's `workforce.adherence`; whole days, the tenant's dates).

Each is null when its denominator is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, and_, case, cast, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.recording import adherence, saves
from switchboard.recording.casework import RecordedFollowUp, SurveyResponse
from switchboard.recording.quality import store as quality_store
from switchboard.recording.store import RecordedContact

DEFAULT_TARGET_SECONDS = 20


class RecordPolicy(SQLModel, table=True):
    """Each tenant's choices for its record (from the centre configuration)."""

    __tablename__ = "recording_policy"

    tenant_id: str = Field(primary_key=True, max_length=64)
    abandons_count_against_service_level: bool = True
    short_abandon_seconds: int = 5
    retention_days: int = 7 * 365


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    for tenant in centre.tenants:
        await session.merge(RecordPolicy(tenant_id=tenant.id, **tenant.record.model_dump()))
    await quality_store.apply_centre(session, centre)


async def policy(session: AsyncSession, tenant_id: str) -> RecordPolicy:
    return await session.get(RecordPolicy, tenant_id) or RecordPolicy(tenant_id=tenant_id)


@dataclass(frozen=True)
class Period:
    tenant_id: str
    start: datetime
    end: datetime
    queue_id: str | None = None


def _ratio(numerator: Any, denominator: Any) -> Any:
    return case((denominator > 0, cast(numerator, Float) / denominator), else_=None)


async def compute(
    session: AsyncSession, period: Period, *, now: datetime | None = None
) -> dict[str, Any]:
    """The period's KPIs; `now` decides which follow-ups have fallen due."""
    rules = await policy(session, period.tenant_id)
    c = RecordedContact
    queued = col(c.queue_id).is_not(None)
    answered = col(c.assigned_at).is_not(None) | col(c.answered_at).is_not(None)
    abandoned = col(c.abandoned_at).is_not(None) & ~answered
    short = abandoned & (func.coalesce(c.abandoned_after_seconds, 0) <= rules.short_abandon_seconds)
    counted_abandon = abandoned & ~short
    within = answered & (
        func.coalesce(c.waited_seconds, 0)
        <= func.coalesce(c.service_level_seconds, DEFAULT_TARGET_SECONDS)
    )
    wrapped = col(c.wrapped_at).is_not(None)
    later = aliased(RecordedContact)
    repeat = exists().where(
        and_(
            col(later.conversation_id) == c.conversation_id,
            col(later.contact_id) != c.contact_id,
            col(later.received_at) > c.received_at,
        )
    )

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    offered = count(queued & ~short)
    sl_base = (
        offered if rules.abandons_count_against_service_level else offered - count(counted_abandon)
    )
    query = select(
        offered.label("offered"),
        count(queued & answered).label("answered"),
        count(queued & counted_abandon).label("abandoned"),
        _ratio(count(queued & within), sl_base).label("service_level"),
        func.avg(case((answered, c.waited_seconds))).label("average_speed_of_answer"),
        func.avg(case((wrapped, c.handle_seconds))).label("average_handle_time"),
        _ratio(count(queued & counted_abandon), offered).label("abandonment_rate"),
        _ratio(count(wrapped & (c.outcome == "resolved") & ~repeat), count(wrapped)).label(
            "first_contact_resolution"
        ),
        _ratio(count(queued & (c.escalated == True)), offered).label(  # noqa: E712 - SQL
            "escalation_rate"
        ),
        _ratio(count(c.outcome == "sale"), count(col(c.outcome).in_(("sale", "no_sale")))).label(
            "conversion_rate"
        ),
        _ratio(count(c.assignments > 1), count(c.assignments > 0)).label("transfer_rate"),
    ).where(*_in_period(period))
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    figures = {k: _rounded(v) for k, v in row._mapping.items()}
    figures.update(await _surveys(session, period))
    figures.update(await _follow_ups(session, period, now or utcnow()))
    figures.update(await saves.of_contacts(session, _in_period(period)))
    if period.queue_id is None:  # adherence is the agents', not a queue's
        figures.update(
            await adherence.schedule_adherence(
                session, tenant_id=period.tenant_id, start=period.start, end=period.end
            )
        )
    return {
        **figures,
        "offered": int(figures["offered"] or 0),
        "answered": int(figures["answered"] or 0),
        "abandoned": int(figures["abandoned"] or 0),
        "definitions": {
            "abandons_count_against_service_level": rules.abandons_count_against_service_level,
            "short_abandon_seconds": rules.short_abandon_seconds,
        },
    }


def _in_period(period: Period) -> list[Any]:
    c = RecordedContact
    conditions = [
        col(c.tenant_id) == period.tenant_id,
        col(c.received_at) >= period.start,
        col(c.received_at) < period.end,
    ]
    if period.queue_id is not None:
        conditions.append(col(c.queue_id) == period.queue_id)
    return conditions


async def _surveys(session: AsyncSession, period: Period) -> dict[str, Any]:
    s = SurveyResponse
    scored = col(s.nps).is_not(None)
    query = (
        select(
            func.avg(s.csat).label("csat"),
            (
                100.0
                * _ratio(
                    func.sum(case((col(s.nps) >= 9, 1), else_=0))
                    - func.sum(case((col(s.nps) <= 6, 1), else_=0)),
                    func.sum(case((scored, 1), else_=0)),
                )
            ).label("nps"),
        )
        .join(RecordedContact, col(RecordedContact.contact_id) == s.contact_id)
        .where(*_in_period(period))
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return {k: _rounded(v) for k, v in row._mapping.items()}


async def _follow_ups(session: AsyncSession, period: Period, now: datetime) -> dict[str, Any]:
    f = RecordedFollowUp
    due = col(f.due_at) <= now
    kept = col(f.done_at).is_not(None) & (col(f.done_at) <= f.due_at)
    query = (
        select(
            _ratio(
                func.sum(case((due & kept, 1), else_=0)), func.sum(case((due, 1), else_=0))
            ).label("follow_ups_on_time")
        )
        .join(RecordedContact, col(RecordedContact.contact_id) == f.contact_id)
        .where(*_in_period(period))
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return {k: _rounded(v) for k, v in row._mapping.items()}


def _rounded(value: Any) -> Any:
    """Figures as floats to four places, whatever number type the database gave (PostgreSQL's
    average of integers is a Decimal)."""
    return round(float(value), 4) if isinstance(value, float | int | Decimal) else value
