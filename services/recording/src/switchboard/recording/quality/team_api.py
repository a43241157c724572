"""The quality programme's people API, under `/v1/quality`: coaching, team feedback and
scorecards (who may do what: `access.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.auth import may
from switchboard.common.envelope import Envelope, aware, utcnow
from switchboard.common.events.quality import CoachingAction, CoachingPlanned, FeedbackPosted
from switchboard.common.ids import new_id
from switchboard.recording.quality import scorecard_store, store
from switchboard.recording.quality.access import ANALYSTS, LEADERS, Who, allow, own_or, runtime_of

router = APIRouter(prefix="/v1/quality", tags=["quality"])


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


@router.post("/coaching", status_code=201, dependencies=[may(*LEADERS)])
async def plan_coaching(body: CoachingRequest, request: Request, who: Who) -> dict[str, Any]:
    """A coaching session for an agent, linked to evaluations and scorecard gaps; its follow-up
    date is kept by escalation, which tells the coach when it falls due undone."""
    async with runtime_of(request).transaction() as tx:
        if await store.agent(tx.session, tenant_id=who.tenant_id, agent_id=body.agent_id) is None:
            raise HTTPException(404, "no such agent")
        for evaluation_id in body.evaluation_ids:
            if (
                await store.get(
                    tx.session, store.Evaluation, tenant_id=who.tenant_id, key=evaluation_id
                )
                is None
            ):
                raise HTTPException(404, f"no such evaluation {evaluation_id}")
        row = store.Coaching(
            coaching_id=new_id(),
            tenant_id=who.tenant_id,
            coach=who.person,
            **body.model_dump(mode="json", exclude={"follow_up_at"}),
            follow_up_at=body.follow_up_at,
        )
        tx.session.add(row)
        await tx.emit(_coaching_event(row))
    return row.model_dump(mode="json")


@router.patch("/coaching/{coaching_id}", dependencies=[may(*LEADERS)])
async def change_coaching(
    coaching_id: str, body: CoachingChange, request: Request, who: Who
) -> dict[str, Any]:
    async with runtime_of(request).transaction() as tx:
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
        allow(who, *LEADERS, *ANALYSTS)
    async with runtime_of(request).db.reader() as session:
        rows = await store.coaching_sessions(session, tenant_id=who.tenant_id, agent_id=agent_id)
    now = utcnow()
    return [
        {
            **r.model_dump(mode="json"),
            "overdue": r.status != "done"
            and r.follow_up_at is not None
            and aware(r.follow_up_at) < now,
        }
        for r in rows
    ]


class FeedbackRequest(BaseModel):
    team: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


@router.post("/feedback", status_code=201, dependencies=[may(*LEADERS)])
async def post_feedback(body: FeedbackRequest, request: Request, who: Who) -> dict[str, Any]:
    """Feedback to a team or to one agent; it reaches their desktops (`quality.feedback`)."""
    if (body.team is None) == (body.agent_id is None):
        raise HTTPException(422, "give a team or an agent_id, not both")
    async with runtime_of(request).transaction() as tx:
        known = await store.agents(tx.session, tenant_id=who.tenant_id, team=body.team)
        if not any(body.agent_id in (None, a.agent_id) for a in known):
            raise HTTPException(404, "no such team" if body.team else "no such agent")
        row = store.Feedback(
            feedback_id=new_id(), tenant_id=who.tenant_id, author=who.person, **body.model_dump()
        )
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
        allow(who, *LEADERS)
    async with runtime_of(request).db.reader() as session:
        found = await store.agent(session, tenant_id=who.tenant_id, agent_id=agent_id or "")
        rows = await store.feedback(
            session, tenant_id=who.tenant_id, agent_id=agent_id, team=found.team if found else None
        )
    return [r.model_dump(mode="json") for r in rows]


# -- scorecards ----------------------------------------------------------------------------------

Start = Annotated[datetime, Query(alias="from")]
End = Annotated[datetime, Query(alias="to")]


def _period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise HTTPException(422, "`to` must be after `from`")
    if (end - start).days > 7 * scorecard_store.MAX_WEEKS:
        raise HTTPException(422, f"a scorecard covers at most {scorecard_store.MAX_WEEKS} weeks")


async def _card(
    session: AsyncSession,
    tenant_id: str,
    agent_ids: tuple[str, ...],
    team: str | None,
    start: datetime,
    end: datetime,
    *,
    trend: bool,
) -> dict[str, Any]:
    """The agents' scorecard against the team's targets (over the tenant's)."""
    programme = await store.programme(session, tenant_id=tenant_id)
    targets = {**programme.targets, **programme.team_targets.get(team or "", {})}
    scope = scorecard_store.Scope(tenant_id, agent_ids, start, end)
    return await scorecard_store.scorecard(session, scope, programme, targets=targets, trend=trend)


@router.get("/scorecards/agents/{agent_id}")
async def agent_scorecard(
    agent_id: str, request: Request, who: Who, start: Start, end: End, trend: bool = False
) -> dict[str, Any]:
    """The agent's figures (defined in `scorecard_store.py`) against their team's targets or else the
    tenant's, with the gap to each; `trend=true` adds them week by week."""
    own_or(who, agent_id, *LEADERS, *ANALYSTS)
    _period(start, end)
    async with runtime_of(request).db.reader() as session:
        found = await store.agent(session, tenant_id=who.tenant_id, agent_id=agent_id)
        if found is None:
            raise HTTPException(404, "no such agent")
        card = await _card(session, who.tenant_id, (agent_id,), found.team, start, end, trend=trend)
    return {
        "agent_id": agent_id,
        "name": found.name,
        "team": found.team,
        "from": start,
        "to": end,
        **card,
    }


@router.get("/scorecards/teams/{team}", dependencies=[may(*LEADERS, *ANALYSTS)])
async def team_scorecard(
    team: str, request: Request, who: Who, start: Start, end: End, trend: bool = False
) -> dict[str, Any]:
    """The team's figures over all its agents' handlings, and each agent's beside them."""
    _period(start, end)
    async with runtime_of(request).db.reader() as session:
        members = await store.agents(session, tenant_id=who.tenant_id, team=team)
        if not members:
            raise HTTPException(404, "no such team")
        ids = tuple(m.agent_id for m in members)
        card = await _card(session, who.tenant_id, ids, team, start, end, trend=trend)
        agents = [
            {
                "agent_id": m.agent_id,
                "name": m.name,
                **await _card(session, who.tenant_id, (m.agent_id,), team, start, end, trend=False),
            }
            for m in members
        ]
    return {"team": team, "from": start, "to": end, **card, "agents": agents}
