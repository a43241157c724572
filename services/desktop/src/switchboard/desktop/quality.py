"""The quality programme as the agent sees it: their evaluations (to acknowledge or dispute),
their team leader's feedback and their coaching, kept from recording's events and shown on their
desktop as they arrive; and the gateway's credential for asking recording on a person's behalf."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import topics
from switchboard.common.envelope import Envelope, aware
from switchboard.common.events.quality import CoachingPlanned, EvaluationPublished, FeedbackPosted
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Handlers
from switchboard.desktop import store
from switchboard.desktop.delivery import tell


class DesktopEvaluation(SQLModel, table=True):
    __tablename__ = "desktop_evaluation"

    evaluation_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(max_length=64, index=True)
    tenant_id: str = Field(max_length=64)
    status: str = Field(max_length=16)
    evaluation: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime


class DesktopFeedback(SQLModel, table=True):
    __tablename__ = "desktop_feedback"

    feedback_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    team: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    feedback: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    posted_at: datetime


class DesktopCoaching(SQLModel, table=True):
    __tablename__ = "desktop_coaching"

    coaching_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(max_length=64, index=True)
    coaching: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_at: datetime


class GatewayCredential(SQLModel, table=True):
    """The token recording knows as this desktop's (granted by `switchboard seed`)."""

    __tablename__ = "desktop_gateway_credential"

    service: str = Field(primary_key=True, max_length=32)
    token: str = Field(max_length=200)


async def keep_gateway_token(session: AsyncSession, *, service: str, token: str) -> None:
    await session.merge(GatewayCredential(service=service, token=token))


async def gateway_token(session: AsyncSession, *, service: str) -> str | None:
    row = await session.get(GatewayCredential, service)
    return None if row is None else row.token


def _newer(held: datetime, new: datetime) -> bool:
    return aware(held) <= aware(new)


handlers = Handlers()


@handlers.on(topics.QUALITY_EVALUATION)
async def on_evaluation(event: Envelope[EvaluationPublished], tx: Transaction) -> None:
    """An evaluation of the agent's contact, or its new status: kept and shown at once."""
    evaluation = event.payload
    row = await tx.session.get(DesktopEvaluation, evaluation.evaluation_id)
    if row is not None and not _newer(row.published_at, event.occurred_at):
        return
    await tx.session.merge(
        DesktopEvaluation(
            evaluation_id=evaluation.evaluation_id,
            agent_id=evaluation.agent_id,
            tenant_id=event.tenant_id,
            status=evaluation.status,
            evaluation=evaluation.model_dump(mode="json"),
            published_at=event.occurred_at,
        )
    )
    await tell(tx, evaluation.agent_id, "evaluation", evaluation.model_dump(mode="json"))


@handlers.on(topics.QUALITY_FEEDBACK)
async def on_feedback(event: Envelope[FeedbackPosted], tx: Transaction) -> None:
    """Feedback to an agent, or to every agent of a team in the tenant."""
    feedback = event.payload
    await tx.session.merge(
        DesktopFeedback(
            feedback_id=feedback.feedback_id,
            tenant_id=event.tenant_id,
            team=feedback.team,
            agent_id=feedback.agent_id,
            feedback=feedback.model_dump(mode="json"),
            posted_at=event.occurred_at,
        )
    )
    for agent_id in await _recipients(tx.session, event.tenant_id, feedback):
        await tell(tx, agent_id, "feedback", feedback.model_dump(mode="json"))


async def _recipients(session: AsyncSession, tenant_id: str, feedback: FeedbackPosted) -> list[str]:
    if feedback.agent_id is not None:
        return [feedback.agent_id]
    rows = await session.exec(
        select(store.DesktopAgent).where(col(store.DesktopAgent.team) == feedback.team)
    )
    return [a.agent_id for a in rows if a.serves(tenant_id)]


@handlers.on(topics.QUALITY_COACHING)
async def on_coaching(event: Envelope[CoachingPlanned], tx: Transaction) -> None:
    coaching = event.payload
    row = await tx.session.get(DesktopCoaching, coaching.coaching_id)
    if row is not None and not _newer(row.changed_at, event.occurred_at):
        return
    await tx.session.merge(
        DesktopCoaching(
            coaching_id=coaching.coaching_id,
            agent_id=coaching.agent_id,
            coaching=coaching.model_dump(mode="json"),
            changed_at=event.occurred_at,
        )
    )
    await tell(tx, coaching.agent_id, "coaching", coaching.model_dump(mode="json"))


async def mine(session: AsyncSession, *, agent: store.DesktopAgent) -> dict[str, Any]:
    """The agent's evaluations, feedback to them or their team, and coaching, newest first."""
    evaluations = await session.exec(
        select(DesktopEvaluation)
        .where(col(DesktopEvaluation.agent_id) == agent.agent_id)
        .order_by(col(DesktopEvaluation.published_at).desc())
        .limit(100)
    )
    to_them = col(DesktopFeedback.agent_id) == agent.agent_id
    if agent.team:
        to_them = to_them | (col(DesktopFeedback.team) == agent.team)
    feedback = await session.exec(
        select(DesktopFeedback)
        .where(to_them)
        .order_by(col(DesktopFeedback.posted_at).desc())
        .limit(50)
    )
    coaching = await session.exec(
        select(DesktopCoaching)
        .where(col(DesktopCoaching.agent_id) == agent.agent_id)
        .order_by(col(DesktopCoaching.changed_at).desc())
        .limit(50)
    )
    return {
        "evaluations": [{**e.evaluation, "status": e.status} for e in evaluations],
        "feedback": [
            {**f.feedback, "posted_at": f.posted_at.isoformat()}
            for f in feedback
            if agent.serves(f.tenant_id)
        ],
        "coaching": [c.coaching for c in coaching],
    }


async def own_evaluation(
    session: AsyncSession, *, agent_id: str, evaluation_id: str
) -> DesktopEvaluation | None:
    row = await session.get(DesktopEvaluation, evaluation_id)
    return row if row is not None and row.agent_id == agent_id else None
