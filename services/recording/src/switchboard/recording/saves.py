"""Retention offers made to customers who asked to leave, and the save rate: of the contacts on
which an offer was made, those on which the customer accepted one (per contact, so a customer
offered twice who stayed counts once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, distinct, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope
from switchboard.common.events.catalogue import RetentionOffered


class RetentionOffer(SQLModel, table=True):
    __tablename__ = "recording_retention_offer"

    event_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=64, index=True)
    offer_id: str = Field(max_length=64)
    answer: str = Field(max_length=16)
    at: datetime


def offered(session: AsyncSession, event: Envelope[RetentionOffered]) -> None:
    made = event.payload
    session.add(
        RetentionOffer(
            event_id=event.event_id,
            tenant_id=event.tenant_id,
            contact_id=event.about_contact_id,
            agent_id=made.agent_id,
            offer_id=made.offer_id,
            answer=made.answer,
            at=event.occurred_at,
        )
    )


def _save_rate() -> Any:
    r = RetentionOffer
    saved = func.count(distinct(case((col(r.answer) == "accepted", col(r.contact_id)))))
    tried = func.count(distinct(col(r.contact_id)))
    return case((tried > 0, cast(saved, Float) / tried), else_=None).label("retention_save_rate")


async def of_contacts(session: AsyncSession, in_period: Sequence[Any]) -> dict[str, Any]:
    """The save rate over the contacts `in_period` selects (the KPIs' period)."""
    from switchboard.recording.store import RecordedContact

    query = (
        select(_save_rate())
        .join(RecordedContact, col(RecordedContact.contact_id) == RetentionOffer.contact_id)
        .where(*in_period)
    )
    rate = (await session.exec(query)).one()
    return {"retention_save_rate": None if rate is None else round(float(rate), 4)}


async def of_agents(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """The save rate of the offers these agents made in [start, end) (a scorecard's)."""
    r = RetentionOffer
    query = select(_save_rate()).where(
        r.tenant_id == tenant_id,
        col(r.agent_id).in_(agent_ids),
        col(r.at) >= start,
        col(r.at) < end,
    )
    rate = (await session.exec(query)).one()
    return {"retention_save_rate": None if rate is None else round(float(rate), 4)}
