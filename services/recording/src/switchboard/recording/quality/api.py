"""The quality programme's evaluation API, under `/v1/quality`: forms, sampling, evaluations and
calibration (who may do what: `access.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from switchboard.common.auth import Actor, may
from switchboard.common.teams_config import QualityFormConfig
from switchboard.recording import customers
from switchboard.recording import store as records
from switchboard.recording.quality import evaluating, forms, handlings, store
from switchboard.recording.quality.access import ANALYSTS, LEADERS, Who, allow, own_or, runtime_of

router = APIRouter(prefix="/v1/quality", tags=["quality"])


# -- forms ---------------------------------------------------------------------------------------


@router.get("/forms")
async def list_forms(request: Request, who: Who) -> list[dict[str, Any]]:
    async with runtime_of(request).db.reader() as session:
        rows = await store.latest_forms(session, tenant_id=who.tenant_id)
    return [{"form_id": r.form_id, "version": r.version, **r.definition} for r in rows]


@router.put("/forms/{form_id}", dependencies=[may(*ANALYSTS)])
async def put_form(
    form_id: str, form: QualityFormConfig, request: Request, who: Who
) -> dict[str, Any]:
    """A new version of the form (evaluations keep the version they were scored on)."""
    if form.id != form_id:
        raise HTTPException(422, "the form's id must match the path")
    async with runtime_of(request).transaction() as tx:
        row = await store.save_form(tx.session, tenant_id=who.tenant_id, form=form)
    return {"form_id": row.form_id, "version": row.version}


# -- sampling ------------------------------------------------------------------------------------


class SampleRequest(BaseModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    agent_id: str | None = None
    filter: Literal["random", "complaints", "long_handle", "low_csat"] = "random"
    size: int = Field(default=5, ge=1, le=100)
    include_evaluated: bool = False


@router.post("/samples", dependencies=[may(*ANALYSTS)])
async def sample(body: SampleRequest, request: Request, who: Who) -> list[dict[str, Any]]:
    """Contacts to evaluate, from handlings wrapped in the period: at random, or those with a
    complaint, a handle time over the tenant's `long_handle_seconds`, or a CSAT at or below its
    `low_csat`. Contacts already evaluated are left out unless asked for."""
    if body.end <= body.start:
        raise HTTPException(422, "`to` must be after `from`")
    async with runtime_of(request).db.reader() as session:
        programme = await store.programme(session, tenant_id=who.tenant_id)
        rows = await handlings.sample(
            session,
            tenant_id=who.tenant_id,
            start=body.start,
            end=body.end,
            agent_id=body.agent_id,
            kind=body.filter,
            size=body.size,
            include_evaluated=body.include_evaluated,
            long_handle_seconds=programme.long_handle_seconds,
            low_csat=programme.low_csat,
        )
        return [
            {
                "contact_id": r.contact_id,
                "agent_id": r.agent_id,
                "queue_id": r.queue_id,
                "wrapped_at": r.wrapped_at,
                "handle_seconds": r.handle_seconds,
                "outcome": r.outcome,
                "filter": body.filter,
            }
            for r in rows
        ]


# -- evaluations ---------------------------------------------------------------------------------


class EvaluationRequest(BaseModel):
    contact_id: str
    agent_id: str
    form_id: str
    answers: dict[str, str] = Field(max_length=1000)
    comment: str | None = Field(default=None, max_length=4000)
    calibration_id: str | None = None


@router.post("/evaluations", status_code=201, dependencies=[may(*ANALYSTS)])
async def evaluate(body: EvaluationRequest, request: Request, who: Who) -> dict[str, Any]:
    """Score one of an agent's contacts on the form's latest version. Outside a calibration the
    evaluation is published to the agent (`quality.evaluation`) to acknowledge or dispute."""
    async with runtime_of(request).transaction() as tx:
        try:
            row = await evaluating.submit(tx, who, **body.model_dump())
        except forms.AnswerError as error:
            raise HTTPException(422, str(error)) from None
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
    return evaluating.view(row)


@router.get("/evaluations")
async def list_evaluations(
    request: Request, who: Who, agent_id: str | None = None, contact_id: str | None = None
) -> list[dict[str, Any]]:
    if agent_id is None or who.agent_id != agent_id:
        allow(who, *ANALYSTS, *LEADERS)
    async with runtime_of(request).db.reader() as session:
        rows = await store.evaluations(
            session, tenant_id=who.tenant_id, agent_id=agent_id, contact_id=contact_id
        )
    return [evaluating.view(r) for r in rows]


@router.get("/evaluations/{evaluation_id}")
async def get_evaluation(evaluation_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The evaluation with its form and the contact it judged (its content and timeline), every
    read of which is in the customer's access log."""
    async with runtime_of(request).transaction() as tx:
        row = await store.get(
            tx.session, store.Evaluation, tenant_id=who.tenant_id, key=evaluation_id
        )
        if row is None:
            raise HTTPException(404, "no such evaluation")
        own_or(who, row.agent_id, *ANALYSTS, *LEADERS)
        form = await store.form_version(
            tx.session, tenant_id=who.tenant_id, form_id=row.form_id, version=row.form_version
        )
        contact = await _contact(tx.session, who, row.contact_id, reason="quality evaluation")
    return {**evaluating.view(row), "form": form.definition if form else None, "contact": contact}


@router.get("/contacts/{contact_id}", dependencies=[may(*ANALYSTS)])
async def contact_for_evaluation(contact_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The contact an analyst is about to evaluate: its content, timeline and handlings."""
    async with runtime_of(request).transaction() as tx:
        found = await _contact(tx.session, who, contact_id, reason="quality evaluation")
    return found


async def _contact(session: Any, who: Actor, contact_id: str, *, reason: str) -> dict[str, Any]:
    contact = await records.contact(session, contact_id=contact_id, tenant_id=who.tenant_id)
    if contact is None:
        raise HTTPException(404, "no such contact")
    if contact.customer_id is not None:
        customers.audit(
            session,
            tenant_id=who.tenant_id,
            customer_id=contact.customer_id,
            actor=who.person,
            action="read",
            reason=reason,
            details={"contact_id": contact_id},
        )
    timeline = await records.timeline(session, contact_id=contact_id)
    handled = await handlings.of_contact(session, contact_id=contact_id)
    return {
        "contact_id": contact.contact_id,
        "channel": contact.channel,
        "queue_id": contact.queue_id,
        "received_at": contact.received_at,
        "subject": contact.subject,
        "text": contact.text,
        "customer": {"name": contact.customer_name},
        "outcome": contact.outcome,
        "handlings": [h.model_dump(mode="json", exclude={"tenant_id"}) for h in handled],
        "timeline": [
            {"event_type": e.event_type, "occurred_at": e.occurred_at, "details": e.details}
            for e in timeline
        ],
    }


# -- calibration ---------------------------------------------------------------------------------


class CalibrationRequest(BaseModel):
    contact_id: str
    agent_id: str
    form_id: str
    evaluators: list[str] = Field(min_length=2, max_length=20)
    """Who is to score it (as they are named on their evaluations: "agent ID" or a token label)."""


@router.post("/calibrations", status_code=201, dependencies=[may(*ANALYSTS)])
async def open_calibration(body: CalibrationRequest, request: Request, who: Who) -> dict[str, Any]:
    async with runtime_of(request).transaction() as tx:
        try:
            row = await evaluating.open_calibration(tx.session, who, **body.model_dump())
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
    return row.model_dump(mode="json")


@router.get("/calibrations", dependencies=[may(*ANALYSTS, *LEADERS)])
async def list_calibrations(request: Request, who: Who) -> list[dict[str, Any]]:
    """The tenant's latest calibrations, each with whose scores it still waits for."""
    async with runtime_of(request).db.reader() as session:
        rows = await store.calibrations(session, tenant_id=who.tenant_id)
        views = [await evaluating.calibration_view(session, who, r.calibration_id) for r in rows]
    return [v for v in views if v is not None]


@router.get("/calibrations/{calibration_id}", dependencies=[may(*ANALYSTS, *LEADERS)])
async def calibration(calibration_id: str, request: Request, who: Who) -> dict[str, Any]:
    """Each evaluator's scores so far and, per question, how far apart they lie."""
    async with runtime_of(request).db.reader() as session:
        found = await evaluating.calibration_view(session, who, calibration_id)
    if found is None:
        raise HTTPException(404, "no such calibration")
    return found


class AgreedScore(BaseModel):
    answers: dict[str, str] = Field(max_length=1000)
    comment: str | None = Field(default=None, max_length=4000)


@router.post("/calibrations/{calibration_id}/agree", status_code=201, dependencies=[may(*ANALYSTS)])
async def agree(
    calibration_id: str, body: AgreedScore, request: Request, who: Who
) -> dict[str, Any]:
    """The score the evaluators agreed: kept as the contact's evaluation and published to the
    agent."""
    async with runtime_of(request).transaction() as tx:
        try:
            row = await evaluating.agree(tx, who, calibration_id, body.answers, body.comment)
        except forms.AnswerError as error:
            raise HTTPException(422, str(error)) from None
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
        except evaluating.Closed as error:
            raise HTTPException(409, str(error)) from None
    return evaluating.view(row)
