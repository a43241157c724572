"""The quality programme's HTTP surface, under `/v1/quality`: an operator token acts as the
tenant's administrator; the desktop acts for the person signed in there, whose roles decide what
they may do (an agent sees only their own scorecard and evaluations). Another tenant's objects are
404; a missing role is 403."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select

from switchboard.common.auth import Actor, actor
from switchboard.common.centre import QualityFormConfig
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.quality import CoachingAction, CoachingPlanned, FeedbackPosted
from switchboard.common.ids import new_id
from switchboard.common.runtime import Runtime
from switchboard.recording import customers
from switchboard.recording import store as records
from switchboard.recording.casework import RecordedComplaint, SurveyResponse
from switchboard.recording.quality import evaluating, forms, scorecards, store
from switchboard.recording.quality.handlings import Handling

router = APIRouter(prefix="/v1/quality", tags=["quality"])
Who = Annotated[Actor, Depends(actor)]
ANALYSTS = ("quality_analyst",)
LEADERS = ("team_leader",)


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _allow(who: Actor, *roles: str) -> None:
    if not who.has(*roles):
        raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")


def _own_or(who: Actor, agent_id: str, *roles: str) -> None:
    """An agent may see their own; others need a role."""
    if who.agent_id != agent_id:
        _allow(who, *roles)


# -- forms ---------------------------------------------------------------------------------------


@router.get("/forms")
async def list_forms(request: Request, who: Who) -> list[dict[str, Any]]:
    async with _runtime(request).db.reader() as session:
        rows = await store.latest_forms(session, tenant_id=who.tenant_id)
    return [{"form_id": r.form_id, "version": r.version, **r.definition} for r in rows]


@router.put("/forms/{form_id}")
async def put_form(
    form_id: str, form: QualityFormConfig, request: Request, who: Who
) -> dict[str, Any]:
    """A new version of the form (evaluations keep the version they were scored on)."""
    _allow(who, *ANALYSTS)
    if form.id != form_id:
        raise HTTPException(422, "the form's id must match the path")
    async with _runtime(request).transaction() as tx:
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


@router.post("/samples")
async def sample(body: SampleRequest, request: Request, who: Who) -> list[dict[str, Any]]:
    """Contacts to evaluate, from handlings wrapped in the period: at random, or those with a
    complaint, a handle time over the tenant's `long_handle_seconds`, or a CSAT at or below its
    `low_csat`. Contacts already evaluated are left out unless asked for."""
    _allow(who, *ANALYSTS)
    if body.end <= body.start:
        raise HTTPException(422, "`to` must be after `from`")
    h = Handling
    async with _runtime(request).db.reader() as session:
        programme = await store.programme(session, tenant_id=who.tenant_id)
        query = select(h).where(col(h.tenant_id) == who.tenant_id,
                                col(h.wrapped_at) >= body.start, col(h.wrapped_at) < body.end)  # fmt: skip
        if body.agent_id:
            query = query.where(col(h.agent_id) == body.agent_id)
        if not body.include_evaluated:
            done = select(store.Evaluation.contact_id).where(
                col(store.Evaluation.tenant_id) == who.tenant_id
            )
            query = query.where(col(h.contact_id).not_in(done))
        if body.filter == "complaints":
            query = query.where(col(h.contact_id).in_(select(RecordedComplaint.contact_id)))
        elif body.filter == "long_handle":
            query = query.where(col(h.handle_seconds) > programme.long_handle_seconds)
        elif body.filter == "low_csat":
            query = query.where(col(h.contact_id).in_(select(SurveyResponse.contact_id).where(
                col(SurveyResponse.csat) <= programme.low_csat)))  # fmt: skip
        rows = await session.exec(query.order_by(func.random()).limit(body.size))
        return [
            {"contact_id": r.contact_id, "agent_id": r.agent_id, "queue_id": r.queue_id,
             "wrapped_at": r.wrapped_at, "handle_seconds": r.handle_seconds,
             "outcome": r.outcome, "filter": body.filter}
            for r in rows
        ]  # fmt: skip


# -- evaluations ---------------------------------------------------------------------------------


class EvaluationRequest(BaseModel):
    contact_id: str
    agent_id: str
    form_id: str
    answers: dict[str, str] = Field(max_length=1000)
    comment: str | None = Field(default=None, max_length=4000)
    calibration_id: str | None = None


@router.post("/evaluations", status_code=201)
async def evaluate(body: EvaluationRequest, request: Request, who: Who) -> dict[str, Any]:
    """Score one of an agent's contacts on the form's latest version. Outside a calibration the
    evaluation is published to the agent (`quality.evaluation`) to acknowledge or dispute."""
    _allow(who, *ANALYSTS)
    async with _runtime(request).transaction() as tx:
        try:
            row = await evaluating.submit(tx, who, **body.model_dump())
        except forms.AnswerError as error:
            raise HTTPException(422, str(error)) from None
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
    return evaluating.view(row)


@router.get("/evaluations")
async def list_evaluations(request: Request, who: Who, agent_id: str | None = None,
                           contact_id: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    if agent_id is None or who.agent_id != agent_id:
        _allow(who, *ANALYSTS, *LEADERS)
    async with _runtime(request).db.reader() as session:
        rows = await store.evaluations(session, tenant_id=who.tenant_id, agent_id=agent_id,
                                       contact_id=contact_id)  # fmt: skip
    return [evaluating.view(r) for r in rows]


@router.get("/evaluations/{evaluation_id}")
async def get_evaluation(evaluation_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The evaluation with its form and the contact it judged (its content and timeline), every
    read of which is in the customer's access log."""
    async with _runtime(request).transaction() as tx:
        row = await store.get(tx.session, store.Evaluation, tenant_id=who.tenant_id,
                              key=evaluation_id)  # fmt: skip
        if row is None:
            raise HTTPException(404, "no such evaluation")
        _own_or(who, row.agent_id, *ANALYSTS, *LEADERS)
        form = await store.form_version(tx.session, tenant_id=who.tenant_id,
                                        form_id=row.form_id, version=row.form_version)  # fmt: skip
        contact = await _contact(tx.session, who, row.contact_id, reason="quality evaluation")
    return {**evaluating.view(row), "form": form.definition if form else None, "contact": contact}


@router.get("/contacts/{contact_id}")
async def contact_for_evaluation(contact_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The contact an analyst is about to evaluate: its content, timeline and handlings."""
    _allow(who, *ANALYSTS)
    async with _runtime(request).transaction() as tx:
        found = await _contact(tx.session, who, contact_id, reason="quality evaluation")
    return found


async def _contact(session: Any, who: Actor, contact_id: str, *, reason: str) -> dict[str, Any]:
    contact = await records.contact(session, contact_id=contact_id, tenant_id=who.tenant_id)
    if contact is None:
        raise HTTPException(404, "no such contact")
    if contact.customer_id is not None:
        customers.audit(session, tenant_id=who.tenant_id, customer_id=contact.customer_id,
                        actor=who.person, action="read", reason=reason,
                        details={"contact_id": contact_id})  # fmt: skip
    timeline = await records.timeline(session, contact_id=contact_id)
    handled = await session.exec(select(Handling).where(col(Handling.contact_id) == contact_id))
    return {
        "contact_id": contact.contact_id, "channel": contact.channel, "queue_id": contact.queue_id,
        "received_at": contact.received_at, "subject": contact.subject, "text": contact.text,
        "customer": {"name": contact.customer_name}, "outcome": contact.outcome,
        "handlings": [h.model_dump(mode="json", exclude={"tenant_id"}) for h in handled],
        "timeline": [{"event_type": e.event_type, "occurred_at": e.occurred_at,
                      "details": e.details} for e in timeline],
    }  # fmt: skip


# -- calibration ---------------------------------------------------------------------------------


class CalibrationRequest(BaseModel):
    contact_id: str
    agent_id: str
    form_id: str
    evaluators: list[str] = Field(min_length=2, max_length=20)
    """Who is to score it (as they are named on their evaluations: "agent ID" or a token label)."""


@router.post("/calibrations", status_code=201)
async def open_calibration(body: CalibrationRequest, request: Request, who: Who) -> dict[str, Any]:
    _allow(who, *ANALYSTS)
    async with _runtime(request).transaction() as tx:
        try:
            row = await evaluating.open_calibration(tx.session, who, **body.model_dump())
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
    return row.model_dump(mode="json")


@router.get("/calibrations/{calibration_id}")
async def calibration(calibration_id: str, request: Request, who: Who) -> dict[str, Any]:
    """Each evaluator's scores so far and, per question, how far apart they lie."""
    _allow(who, *ANALYSTS, *LEADERS)
    async with _runtime(request).db.reader() as session:
        found = await evaluating.calibration_view(session, who, calibration_id)
    if found is None:
        raise HTTPException(404, "no such calibration")
    return found


class AgreedScore(BaseModel):
    answers: dict[str, str] = Field(max_length=1000)
    comment: str | None = Field(default=None, max_length=4000)


@router.post("/calibrations/{calibration_id}/agree", status_code=201)
async def agree(
    calibration_id: str, body: AgreedScore, request: Request, who: Who
) -> dict[str, Any]:
    """The score the evaluators agreed: kept as the contact's evaluation and published to the
    agent."""
    _allow(who, *ANALYSTS)
    async with _runtime(request).transaction() as tx:
        try:
            row = await evaluating.agree(tx, who, calibration_id, body.answers, body.comment)
        except forms.AnswerError as error:
            raise HTTPException(422, str(error)) from None
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
        except evaluating.Closed as error:
            raise HTTPException(409, str(error)) from None
    return evaluating.view(row)


# -- coaching and feedback -----------------------------------------------------------------------


class CoachingRequest(BaseModel):
    agent_id: str
    topic: str = Field(min_length=1, max_length=500)
    evaluation_ids: list[str] = Field(default_factory=list, max_length=50)
    scorecard_gaps: list[str] = Field(default_factory=list, max_length=20)
    actions: list[CoachingAction] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=4000)
    follow_up_at: datetime | None = None


class CoachingChange(BaseModel):
    actions: list[CoachingAction] | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=4000)
    follow_up_at: datetime | None = None
    status: Literal["planned", "done"] | None = None


def _coaching_event(row: store.Coaching) -> Envelope[CoachingPlanned]:
    payload = CoachingPlanned(**row.model_dump(include=set(CoachingPlanned.model_fields)))
    return Envelope.first(payload, tenant_id=row.tenant_id, aggregate_id=row.coaching_id)


@router.post("/coaching", status_code=201)
async def plan_coaching(body: CoachingRequest, request: Request, who: Who) -> dict[str, Any]:
    """A coaching session for an agent, linked to evaluations and scorecard gaps; its follow-up
    date is kept by escalation, which tells the coach when it falls due undone."""
    _allow(who, *LEADERS)
    async with _runtime(request).transaction() as tx:
        if await store.agent(tx.session, tenant_id=who.tenant_id, agent_id=body.agent_id) is None:
            raise HTTPException(404, "no such agent")
        for evaluation_id in body.evaluation_ids:
            if await store.get(tx.session, store.Evaluation, tenant_id=who.tenant_id,
                               key=evaluation_id) is None:  # fmt: skip
                raise HTTPException(404, f"no such evaluation {evaluation_id}")
        row = store.Coaching(coaching_id=new_id(), tenant_id=who.tenant_id, coach=who.person,
                             **body.model_dump(mode="json", exclude={"follow_up_at"}),
                             follow_up_at=body.follow_up_at)  # fmt: skip
        tx.session.add(row)
        await tx.emit(_coaching_event(row))
    return row.model_dump(mode="json")


@router.patch("/coaching/{coaching_id}")
async def change_coaching(coaching_id: str, body: CoachingChange, request: Request,
                          who: Who) -> dict[str, Any]:  # fmt: skip
    _allow(who, *LEADERS)
    async with _runtime(request).transaction() as tx:
        row: store.Coaching | None = await store.get(
            tx.session, store.Coaching, tenant_id=who.tenant_id, key=coaching_id
        )
        if row is None:
            raise HTTPException(404, "no such coaching session")
        for name, value in body.model_dump(mode="json", exclude_unset=True).items():
            setattr(row, name, getattr(body, name) if name == "follow_up_at" else value)
        row.updated_at = utcnow()
        tx.session.add(row)
        await tx.emit(_coaching_event(row))
    return row.model_dump(mode="json")


@router.get("/coaching")
async def list_coaching(
    request: Request, who: Who, agent_id: str | None = None
) -> list[dict[str, Any]]:
    if agent_id is None or who.agent_id != agent_id:
        _allow(who, *LEADERS, *ANALYSTS)
    async with _runtime(request).db.reader() as session:
        rows = await store.coaching_sessions(session, tenant_id=who.tenant_id, agent_id=agent_id)
    now = utcnow()
    return [{**r.model_dump(mode="json"),
             "overdue": r.status != "done" and r.follow_up_at is not None
             and r.follow_up_at.replace(tzinfo=now.tzinfo) < now} for r in rows]  # fmt: skip


class FeedbackRequest(BaseModel):
    team: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


@router.post("/feedback", status_code=201)
async def post_feedback(body: FeedbackRequest, request: Request, who: Who) -> dict[str, Any]:
    """Feedback to a team or to one agent; it reaches their desktops (`quality.feedback`)."""
    _allow(who, *LEADERS)
    if (body.team is None) == (body.agent_id is None):
        raise HTTPException(422, "give a team or an agent_id, not both")
    async with _runtime(request).transaction() as tx:
        known = await store.agents(tx.session, tenant_id=who.tenant_id, team=body.team)
        if not any(body.agent_id in (None, a.agent_id) for a in known):
            raise HTTPException(404, "no such team" if body.team else "no such agent")
        row = store.Feedback(feedback_id=new_id(), tenant_id=who.tenant_id, author=who.person,
                             **body.model_dump())  # fmt: skip
        tx.session.add(row)
        payload = FeedbackPosted(**row.model_dump(include=set(FeedbackPosted.model_fields)))
        await tx.emit(
            Envelope.first(payload, tenant_id=who.tenant_id, aggregate_id=row.feedback_id)
        )
    return row.model_dump(mode="json")


@router.get("/feedback")
async def list_feedback(
    request: Request, who: Who, agent_id: str | None = None
) -> list[dict[str, Any]]:
    if agent_id is None or who.agent_id != agent_id:
        _allow(who, *LEADERS)
    async with _runtime(request).db.reader() as session:
        found = await store.agent(session, tenant_id=who.tenant_id, agent_id=agent_id or "")
        rows = await store.feedback(session, tenant_id=who.tenant_id, agent_id=agent_id,
                                    team=found.team if found else None)  # fmt: skip
    return [r.model_dump(mode="json") for r in rows]


# -- scorecards ----------------------------------------------------------------------------------

Start = Annotated[datetime, Query(alias="from")]
End = Annotated[datetime, Query(alias="to")]


def _period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise HTTPException(422, "`to` must be after `from`")
    if (end - start).days > 7 * scorecards.MAX_WEEKS:
        raise HTTPException(422, f"a scorecard covers at most {scorecards.MAX_WEEKS} weeks")


@router.get("/scorecards/agents/{agent_id}")
async def agent_scorecard(agent_id: str, request: Request, who: Who, start: Start, end: End,
                          trend: bool = False) -> dict[str, Any]:  # fmt: skip
    """The agent's figures (defined in `scorecards.py`) against their team's targets or else the
    tenant's, with the gap to each; `trend=true` adds them week by week."""
    _own_or(who, agent_id, *LEADERS, *ANALYSTS)
    _period(start, end)
    async with _runtime(request).db.reader() as session:
        found = await store.agent(session, tenant_id=who.tenant_id, agent_id=agent_id)
        if found is None:
            raise HTTPException(404, "no such agent")
        programme = await store.programme(session, tenant_id=who.tenant_id)
        targets = {**programme.targets, **programme.team_targets.get(found.team or "", {})}
        card = await scorecards.scorecard(
            session, scorecards.Scope(who.tenant_id, (agent_id,), start, end), programme,
            targets=targets, trend=trend)  # fmt: skip
    return {"agent_id": agent_id, "name": found.name, "team": found.team, "from": start,
            "to": end, **card}  # fmt: skip


@router.get("/scorecards/teams/{team}")
async def team_scorecard(team: str, request: Request, who: Who, start: Start, end: End,
                         trend: bool = False) -> dict[str, Any]:  # fmt: skip
    """The team's figures over all its agents' handlings, and each agent's beside them."""
    _allow(who, *LEADERS, *ANALYSTS)
    _period(start, end)
    async with _runtime(request).db.reader() as session:
        members = await store.agents(session, tenant_id=who.tenant_id, team=team)
        if not members:
            raise HTTPException(404, "no such team")
        programme = await store.programme(session, tenant_id=who.tenant_id)
        targets = {**programme.targets, **programme.team_targets.get(team, {})}
        ids = tuple(m.agent_id for m in members)
        card = await scorecards.scorecard(session, scorecards.Scope(who.tenant_id, ids, start, end),
                                          programme, targets=targets, trend=trend)  # fmt: skip
        agents = [
            {"agent_id": m.agent_id, "name": m.name,
             **await scorecards.scorecard(
                 session, scorecards.Scope(who.tenant_id, (m.agent_id,), start, end), programme,
                 targets=targets, trend=False)}
            for m in members
        ]  # fmt: skip
    return {"team": team, "from": start, "to": end, **card, "agents": agents}
