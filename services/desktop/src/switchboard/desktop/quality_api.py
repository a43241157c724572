"""The desktop's quality pages. An agent's own evaluations, feedback and coaching come from the
desktop's own copy (`quality.py`); answering an evaluation is an event to recording. Everything
else (scorecards, sampling, evaluating, calibration, coaching, feedback) is recording's API, asked
on behalf of the person signed in: the desktop names them, their tenant and their roles (agent;
team_leader for a supervisor; quality_analyst), and recording decides what those roles allow."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from switchboard.common.envelope import Envelope
from switchboard.common.events.quality import EvaluationAnswered
from switchboard.common.runtime import runtime_of
from switchboard.desktop import gateway, quality
from switchboard.desktop.commands import Agent
from switchboard.desktop.context import Desktop

router = APIRouter(prefix="/v1/quality", tags=["desktop"])


@router.get("/mine")
async def mine(agent: Agent, request: Request) -> dict[str, Any]:
    """The agent's evaluations, feedback and coaching, newest first."""
    async with runtime_of(request).db.reader() as session:
        return await quality.mine(session, agent=agent)


class Answer(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/evaluations/{evaluation_id}/{answer}", status_code=202)
async def answer_evaluation(
    evaluation_id: str,
    answer: Literal["acknowledge", "dispute"],
    body: Answer,
    agent: Agent,
    request: Request,
) -> dict[str, Any]:
    """The agent acknowledges their evaluation, or disputes it (a dispute needs a comment)."""
    if answer == "dispute" and not (body.comment or "").strip():
        raise HTTPException(422, "say why you dispute it")
    async with runtime_of(request).transaction() as tx:
        row = await quality.own_evaluation(
            tx.session, agent_id=agent.agent_id, evaluation_id=evaluation_id
        )
        if row is None:
            raise HTTPException(404, "no such evaluation of yours")
        if row.status != "submitted":
            raise HTTPException(409, f"already {row.status}")
        status: Literal["acknowledged", "disputed"] = (
            "acknowledged" if answer == "acknowledge" else "disputed"
        )
        payload = EvaluationAnswered(
            evaluation_id=evaluation_id,
            agent_id=agent.agent_id,
            answer=status,
            comment=body.comment,
        )
        await tx.emit(Envelope.first(payload, tenant_id=row.tenant_id, aggregate_id=evaluation_id))
    return {"evaluation_id": evaluation_id, "answer": status}


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH"])
async def forward(path: str, agent: Agent, request: Request, tenant: str | None = None) -> Response:
    """Recording's `/v1/quality/<path>`, asked for the person signed in (in `tenant`, or their
    first)."""
    settings = Desktop.of(request).settings
    return await gateway.forward(
        request,
        agent,
        service="recording",
        base_url=settings.recording_url,
        path=f"/v1/quality/{path}",
        tenant=tenant,
    )
