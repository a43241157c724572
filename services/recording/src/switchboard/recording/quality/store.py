"""The quality programme's tables and queries: each tenant's programme and forms (versioned: an
evaluation keeps the version it was scored on), its agents' teams, evaluations, calibrations,
coaching sessions and feedback."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.common.teams_config import QualityConfig, QualityFormConfig


class QualityProgramme(SQLModel, table=True):
    __tablename__ = "quality_programme"

    tenant_id: str = Field(primary_key=True, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class QualityAgent(SQLModel, table=True):
    __tablename__ = "quality_agent"

    tenant_id: str = Field(primary_key=True, max_length=64)
    agent_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    team: str | None = Field(default=None, max_length=64, index=True)


class QualityForm(SQLModel, table=True):
    __tablename__ = "quality_form"

    tenant_id: str = Field(primary_key=True, max_length=64)
    form_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def form(self) -> QualityFormConfig:
        return QualityFormConfig.model_validate(self.definition)


class Evaluation(SQLModel, table=True):
    __tablename__ = "quality_evaluation"

    evaluation_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=64, index=True)
    form_id: str = Field(max_length=64)
    form_version: int
    evaluator: str = Field(max_length=200)
    answers: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    score: float
    auto_failed: bool
    comment: str | None = Field(default=None, sa_column=Column(Text))
    calibration_id: str | None = Field(default=None, max_length=36, index=True)
    """Set on a calibration's scores: they are compared, not shown to the agent or counted."""
    status: str = Field(default="submitted", max_length=16)
    """submitted, acknowledged, disputed (calibration scores stay "calibrating")."""
    agent_comment: str | None = Field(default=None, max_length=2000)
    submitted_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None


class Calibration(SQLModel, table=True):
    __tablename__ = "quality_calibration"

    calibration_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36)
    agent_id: str = Field(max_length=64)
    form_id: str = Field(max_length=64)
    form_version: int
    evaluators: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=16)
    """open, agreed."""
    agreed_evaluation_id: str | None = Field(default=None, max_length=36)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Coaching(SQLModel, table=True):
    __tablename__ = "quality_coaching"

    coaching_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    agent_id: str = Field(max_length=64, index=True)
    coach: str = Field(max_length=200)
    topic: str = Field(max_length=500)
    evaluation_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scorecard_gaps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    notes: str | None = Field(default=None, sa_column=Column(Text))
    follow_up_at: datetime | None = None
    status: str = Field(default="planned", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    __tablename__ = "quality_feedback"

    feedback_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    author: str = Field(max_length=200)
    team: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


def _digest(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    for tenant in centre.tenants:
        await session.merge(
            QualityProgramme(tenant_id=tenant.id, config=tenant.quality.model_dump(mode="json"))
        )
        for form in tenant.quality.forms:
            await save_form(session, tenant_id=tenant.id, form=form)
    for agent in centre.agents:
        for tenant_id in agent.tenants:
            await session.merge(
                QualityAgent(
                    tenant_id=tenant_id, agent_id=agent.id, name=agent.name, team=agent.team
                )
            )


async def programme(session: AsyncSession, *, tenant_id: str) -> QualityConfig:
    row = await session.get(QualityProgramme, tenant_id)
    return QualityConfig.model_validate(row.config) if row is not None else QualityConfig()


async def save_form(
    session: AsyncSession, *, tenant_id: str, form: QualityFormConfig
) -> QualityForm:
    """The form as a new version, unless it is the same as its latest version."""
    definition = form.model_dump(mode="json")
    latest = await form_version(session, tenant_id=tenant_id, form_id=form.id)
    if latest is not None and latest.digest == _digest(definition):
        return latest
    row = QualityForm(
        tenant_id=tenant_id,
        form_id=form.id,
        title=form.title,
        version=(latest.version if latest else 0) + 1,
        definition=definition,
        digest=_digest(definition),
    )
    session.add(row)
    return row


async def form_version(
    session: AsyncSession, *, tenant_id: str, form_id: str, version: int | None = None
) -> QualityForm | None:
    """The given version of the form, or its latest."""
    query = select(QualityForm).where(
        col(QualityForm.tenant_id) == tenant_id, col(QualityForm.form_id) == form_id
    )
    if version is not None:
        query = query.where(col(QualityForm.version) == version)
    rows = await session.exec(query.order_by(col(QualityForm.version).desc()).limit(1))
    return rows.first()


async def latest_forms(session: AsyncSession, *, tenant_id: str) -> list[QualityForm]:
    latest = (
        select(QualityForm.form_id, func.max(QualityForm.version).label("version"))
        .where(col(QualityForm.tenant_id) == tenant_id)
        .group_by(col(QualityForm.form_id))
        .subquery()
    )
    rows = await session.exec(
        select(QualityForm)
        .join(
            latest,
            (col(QualityForm.form_id) == latest.c.form_id)
            & (col(QualityForm.version) == latest.c.version),
        )
        .where(col(QualityForm.tenant_id) == tenant_id)
        .order_by(col(QualityForm.form_id))
    )
    return list(rows)


async def agents(
    session: AsyncSession, *, tenant_id: str, team: str | None = None
) -> list[QualityAgent]:
    query = select(QualityAgent).where(col(QualityAgent.tenant_id) == tenant_id)
    if team is not None:
        query = query.where(col(QualityAgent.team) == team)
    return list(await session.exec(query.order_by(col(QualityAgent.agent_id))))


async def agent(session: AsyncSession, *, tenant_id: str, agent_id: str) -> QualityAgent | None:
    return await session.get(QualityAgent, (tenant_id, agent_id))


async def evaluations(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str | None = None,
    contact_id: str | None = None,
    calibration_id: str | None = None,
    limit: int = 200,
) -> list[Evaluation]:
    """Newest first; without `calibration_id`, the evaluations agents see (not calibration
    scores)."""
    e = Evaluation
    query = select(e).where(col(e.tenant_id) == tenant_id)
    if calibration_id is None:
        query = query.where(col(e.calibration_id).is_(None))
    else:
        query = query.where(col(e.calibration_id) == calibration_id)
    if agent_id is not None:
        query = query.where(col(e.agent_id) == agent_id)
    if contact_id is not None:
        query = query.where(col(e.contact_id) == contact_id)
    return list(await session.exec(query.order_by(col(e.submitted_at).desc()).limit(limit)))


async def get(session: AsyncSession, model: type[Any], *, tenant_id: str, key: str) -> Any:
    """One row of the tenant's by its id, or None (another tenant's row is absent)."""
    row = await session.get(model, key)
    return row if row is not None and row.tenant_id == tenant_id else None


async def calibrations(
    session: AsyncSession, *, tenant_id: str, limit: int = 50
) -> list[Calibration]:
    """Newest first."""
    query = select(Calibration).where(col(Calibration.tenant_id) == tenant_id)
    return list(await session.exec(query.order_by(col(Calibration.created_at).desc()).limit(limit)))


async def coaching_sessions(
    session: AsyncSession, *, tenant_id: str, agent_id: str | None = None
) -> list[Coaching]:
    query = select(Coaching).where(col(Coaching.tenant_id) == tenant_id)
    if agent_id is not None:
        query = query.where(col(Coaching.agent_id) == agent_id)
    return list(await session.exec(query.order_by(col(Coaching.created_at).desc()).limit(200)))


async def feedback(
    session: AsyncSession, *, tenant_id: str, agent_id: str | None = None, team: str | None = None
) -> list[Feedback]:
    """Newest first; for an agent, what was posted to them or to their team."""
    query = select(Feedback).where(col(Feedback.tenant_id) == tenant_id)
    if agent_id is not None:
        to_them = col(Feedback.agent_id) == agent_id
        query = query.where(to_them | (col(Feedback.team) == team) if team else to_them)
    return list(await session.exec(query.order_by(col(Feedback.created_at).desc()).limit(200)))
