"""The desktop's quality pages. An agent's own evaluations, feedback and coaching come from the
desktop's own copy (`quality.py`); answering an evaluation is an event to recording. Everything
else (scorecards, sampling, evaluating, calibration, coaching, feedback) is recording's API, asked
on behalf of the person signed in: the desktop names them, their tenant and their roles (agent;
team_leader for a supervisor; quality_analyst), and recording decides what those roles allow."""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from switchboard.common.auth import AGENT_HEADER, ROLES_HEADER, TENANT_HEADER
from switchboard.common.envelope import Envelope
from switchboard.common.events.quality import EvaluationAnswered
from switchboard.desktop import quality
from switchboard.desktop.api import Agent
from switchboard.desktop.settings import DesktopSettings

router = APIRouter(prefix="/v1/quality", tags=["desktop"])
FORWARDED_TIMEOUT = 10.0
MAX_FORWARDED_BODY = 256 * 1024


def roles_of(agent: Any) -> list[str]:
    return ["agent"] + (["team_leader"] if agent.supervisor else []) + (
        ["quality_analyst"] if agent.quality_analyst else [])  # fmt: skip


@router.get("/mine")
async def mine(agent: Agent, request: Request) -> dict[str, Any]:
    """The agent's evaluations, feedback and coaching, newest first."""
    async with request.app.state.runtime.db.reader() as session:
        return await quality.mine(session, agent)


class Answer(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/evaluations/{evaluation_id}/{answer}", status_code=202)
async def answer_evaluation(evaluation_id: str, answer: Literal["acknowledge", "dispute"],
                            body: Answer, agent: Agent, request: Request) -> dict[str, Any]:  # fmt: skip
    """The agent acknowledges their evaluation, or disputes it (a dispute needs a comment)."""
    if answer == "dispute" and not (body.comment or "").strip():
        raise HTTPException(422, "say why you dispute it")
    async with request.app.state.runtime.transaction() as tx:
        row = await quality.own_evaluation(tx.session, agent_id=agent.agent_id,
                                           evaluation_id=evaluation_id)  # fmt: skip
        if row is None:
            raise HTTPException(404, "no such evaluation of yours")
        if row.status != "submitted":
            raise HTTPException(409, f"already {row.status}")
        status: Literal["acknowledged", "disputed"] = (
            "acknowledged" if answer == "acknowledge" else "disputed")  # fmt: skip
        payload = EvaluationAnswered(evaluation_id=evaluation_id, agent_id=agent.agent_id,
                                     answer=status, comment=body.comment)  # fmt: skip
        await tx.emit(Envelope.first(payload, tenant_id=row.tenant_id, aggregate_id=evaluation_id))
    return {"evaluation_id": evaluation_id, "answer": status}


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH"])
async def forward(path: str, agent: Agent, request: Request, tenant: str | None = None) -> Response:
    """Recording's `/v1/quality/<path>`, asked for the person signed in (in `tenant`, or their
    first)."""
    if ".." in path.split("/"):
        raise HTTPException(404, "not found")
    tenant_id = tenant or agent.tenants[0]
    if not agent.serves(tenant_id):
        raise HTTPException(404, "no such tenant")
    runtime = request.app.state.runtime
    settings: DesktopSettings = runtime.state["settings"]
    async with runtime.db.reader() as session:
        token = await quality.gateway_token(session, service="recording")
    if token is None:
        raise HTTPException(503, "the quality pages are not set up: run `switchboard seed`")
    body = await request.body()
    if len(body) > MAX_FORWARDED_BODY:
        raise HTTPException(413, "request too large")
    params = httpx.QueryParams(
        [(k, v) for k, v in request.query_params.multi_items() if k not in ("tenant", "token")]
    )
    headers = {"Authorization": f"Bearer {token}", TENANT_HEADER: tenant_id,
               AGENT_HEADER: agent.agent_id, ROLES_HEADER: ",".join(roles_of(agent)),
               "Content-Type": request.headers.get("content-type", "application/json")}  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=settings.recording_url,
                                     timeout=FORWARDED_TIMEOUT) as client:  # fmt: skip
            answer = await client.request(request.method, f"/v1/quality/{path}", params=params,
                                          content=body, headers=headers)  # fmt: skip
    except httpx.HTTPError as error:
        raise HTTPException(503, f"recording cannot be reached: {type(error).__name__}") from None
    return Response(answer.content, status_code=answer.status_code,
                    media_type=answer.headers.get("content-type"))  # fmt: skip
