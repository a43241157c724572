"""Evaluations and calibrations as use cases: score against the form (`forms.py`), keep the
evaluation, and tell the agent (`quality.evaluation`); take the agent's acknowledgement or
dispute; compare a calibration's scores and keep the agreed one."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.auth import Actor
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.quality import (
    EvaluationAnswered,
    EvaluationPublished,
    ScoredQuestion,
)
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.recording import store as records
from switchboard.recording.quality import forms, store


class Closed(Exception):
    """The calibration already has its agreed score."""


def view(row: store.Evaluation) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"tenant_id"})


async def _form(
    session: AsyncSession, tenant_id: str, form_id: str, version: int | None = None
) -> store.QualityForm:
    found = await store.form_version(session, tenant_id=tenant_id, form_id=form_id, version=version)
    if found is None:
        raise LookupError(f"no such form {form_id}")
    return found


async def _handled_by(
    session: AsyncSession, tenant_id: str, contact_id: str, agent_id: str
) -> None:
    if await records.contact(session, contact_id=contact_id, tenant_id=tenant_id) is None:
        raise LookupError("no such contact")
    if await store.agent(session, tenant_id=tenant_id, agent_id=agent_id) is None:
        raise LookupError("no such agent")


async def _publish(tx: Transaction, row: store.Evaluation, form: store.QualityForm) -> None:
    scored = forms.score(form.form, row.answers)
    payload = EvaluationPublished(
        evaluation_id=row.evaluation_id,
        agent_id=row.agent_id,
        evaluated_contact_id=row.contact_id,
        form_title=form.title,
        evaluator=row.evaluator,
        score=row.score,
        auto_failed=row.auto_failed,
        comment=row.comment,
        questions=[
            ScoredQuestion(
                section=q.section,
                question=q.question,
                answer=q.answer,
                points=q.points,
                out_of=q.out_of,
            )
            for q in scored.questions
        ],
        status=row.status,
    )
    await tx.emit(
        Envelope.first(
            payload,
            tenant_id=row.tenant_id,
            aggregate_id=row.evaluation_id,
            contact_id=row.contact_id,
        )
    )


async def submit(
    tx: Transaction,
    who: Actor,
    *,
    contact_id: str,
    agent_id: str,
    form_id: str,
    answers: dict[str, str],
    comment: str | None,
    calibration_id: str | None,
) -> store.Evaluation:
    session = tx.session
    version = None
    if calibration_id is not None:
        calibration = await store.get(
            session, store.Calibration, tenant_id=who.tenant_id, key=calibration_id
        )
        if calibration is None:
            raise LookupError("no such calibration")
        if calibration.status != "open":
            raise forms.AnswerError("the calibration is closed")
        if who.person not in calibration.evaluators:
            raise forms.AnswerError(f"{who.person} is not one of this calibration's evaluators")
        contact_id, agent_id = calibration.contact_id, calibration.agent_id
        form_id, version = calibration.form_id, calibration.form_version
    await _handled_by(session, who.tenant_id, contact_id, agent_id)
    form = await _form(session, who.tenant_id, form_id, version)
    scored = forms.score(form.form, answers)
    row = store.Evaluation(
        evaluation_id=new_id(),
        tenant_id=who.tenant_id,
        contact_id=contact_id,
        agent_id=agent_id,
        form_id=form.form_id,
        form_version=form.version,
        evaluator=who.person,
        answers={k: v.strip().lower() for k, v in answers.items()},
        score=scored.score,
        auto_failed=scored.auto_failed,
        comment=comment,
        calibration_id=calibration_id,
        status="calibrating" if calibration_id else "submitted",
    )
    session.add(row)
    if calibration_id is None:
        await _publish(tx, row, form)
    return row


async def answered(tx: Transaction, event: Envelope[EvaluationAnswered]) -> None:
    """The agent's acknowledgement or dispute, from their desktop: only of their own evaluation,
    and only once (a later answer does not change the first)."""
    answer = event.payload
    row = await store.get(
        tx.session, store.Evaluation, tenant_id=event.tenant_id, key=answer.evaluation_id
    )
    if row is None or row.agent_id != answer.agent_id or row.status != "submitted":
        return
    row.status, row.agent_comment, row.answered_at = (
        answer.answer,
        answer.comment,
        event.occurred_at,
    )
    tx.session.add(row)
    await _publish(tx, row, await _form(tx.session, row.tenant_id, row.form_id, row.form_version))


async def open_calibration(
    session: AsyncSession,
    who: Actor,
    *,
    contact_id: str,
    agent_id: str,
    form_id: str,
    evaluators: list[str],
) -> store.Calibration:
    await _handled_by(session, who.tenant_id, contact_id, agent_id)
    form = await _form(session, who.tenant_id, form_id)
    row = store.Calibration(
        calibration_id=new_id(),
        tenant_id=who.tenant_id,
        contact_id=contact_id,
        agent_id=agent_id,
        form_id=form.form_id,
        form_version=form.version,
        evaluators=sorted(set(evaluators)),
        created_by=who.person,
    )
    session.add(row)
    return row


async def calibration_view(
    session: AsyncSession, who: Actor, calibration_id: str
) -> dict[str, Any] | None:
    row = await store.get(session, store.Calibration, tenant_id=who.tenant_id, key=calibration_id)
    if row is None:
        return None
    form = await _form(session, who.tenant_id, row.form_id, row.form_version)
    scores = await store.evaluations(
        session, tenant_id=who.tenant_id, calibration_id=calibration_id
    )
    latest = {}
    for score in sorted(scores, key=lambda s: s.submitted_at):
        latest[score.evaluator] = score
    spread = forms.spread(form.form, {who_: s.answers for who_, s in latest.items()})
    overall = [s.score for s in latest.values()]
    return {
        **row.model_dump(mode="json", exclude={"tenant_id"}),
        "form": form.definition,
        "scores": [view(s) for s in latest.values()],
        "waiting_for": [e for e in row.evaluators if e not in latest],
        "score_spread": round(max(overall) - min(overall), 2) if overall else None,
        "questions": [vars(q) for q in spread],
    }


async def agree(
    tx: Transaction, who: Actor, calibration_id: str, answers: dict[str, str], comment: str | None
) -> store.Evaluation:
    row = await store.get(
        tx.session, store.Calibration, tenant_id=who.tenant_id, key=calibration_id
    )
    if row is None:
        raise LookupError("no such calibration")
    if row.status != "open":
        raise Closed("the calibration already has its agreed score")
    form = await _form(tx.session, who.tenant_id, row.form_id, row.form_version)
    scored = forms.score(form.form, answers)
    agreed = store.Evaluation(
        evaluation_id=new_id(),
        tenant_id=who.tenant_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        form_id=row.form_id,
        form_version=row.form_version,
        evaluator=f"calibration ({', '.join(row.evaluators)})",
        answers={k: v.strip().lower() for k, v in answers.items()},
        score=scored.score,
        auto_failed=scored.auto_failed,
        comment=comment,
        submitted_at=utcnow(),
    )
    tx.session.add(agreed)
    row.status, row.agreed_evaluation_id = "agreed", agreed.evaluation_id
    tx.session.add(row)
    await _publish(tx, agreed, form)
    return agreed
