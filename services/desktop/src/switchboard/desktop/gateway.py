"""The desktop asking another service's API for the person signed in: it names them, their tenant
and their roles (agent; team_leader for a supervisor; quality_analyst) with the gateway's token,
and the service decides what those roles allow."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import HTTPException, Request, Response

from switchboard.common.auth import AGENT_HEADER, ROLES_HEADER, TENANT_HEADER
from switchboard.common.runtime import runtime_of
from switchboard.common.tls import client_tls
from switchboard.desktop import quality

FORWARDED_TIMEOUT = 10.0
MAX_FORWARDED_BODY = 256 * 1024


def roles_of(agent: Any) -> list[str]:
    return (
        ["agent"]
        + (["team_leader"] if agent.supervisor else [])
        + (["quality_analyst"] if agent.quality_analyst else [])
    )


def tenant_of(agent: Any, tenant: str | None) -> str:
    """The tenant asked for (the agent's first unless named), 404 when not theirs."""
    tenant_id = tenant or agent.tenants[0]
    if not agent.serves(tenant_id):
        raise HTTPException(404, "no such tenant")
    return tenant_id


async def ask(
    request: Request,
    agent: Any,
    *,
    service: str,
    base_url: str,
    method: str,
    path: str,
    tenant_id: str,
    params: Any = None,
    content: bytes = b"",
    json: Any = None,
) -> httpx.Response:
    """`service`'s answer to `method path`, asked for `agent` in `tenant_id`."""
    async with runtime_of(request).db.reader() as session:
        token = await quality.gateway_token(session, service=service)
    if token is None:
        raise HTTPException(
            503, f"the desktop has no credential for {service}: run `switchboard seed`"
        )
    headers = {
        "Authorization": f"Bearer {token}",
        TENANT_HEADER: tenant_id,
        AGENT_HEADER: agent.agent_id,
        ROLES_HEADER: ",".join(roles_of(agent)),
    }
    if json is None:
        headers["Content-Type"] = request.headers.get("content-type", "application/json")
    try:
        async with httpx.AsyncClient(
            base_url=base_url, timeout=FORWARDED_TIMEOUT, verify=client_tls()
        ) as client:
            return await client.request(
                method, path, params=params, content=content or None, json=json, headers=headers
            )
    except httpx.HTTPError as error:
        raise HTTPException(503, f"{service} cannot be reached: {type(error).__name__}") from None


async def forward(
    request: Request, agent: Any, *, service: str, base_url: str, path: str, tenant: str | None
) -> Response:
    """The request as it came (its method, query and body), answered by `service`'s `path`."""
    if ".." in path.split("/"):
        raise HTTPException(404, "not found")
    tenant_id = tenant_of(agent, tenant)
    body = await request.body()
    if len(body) > MAX_FORWARDED_BODY:
        raise HTTPException(413, "request too large")
    params = httpx.QueryParams(
        [(k, v) for k, v in request.query_params.multi_items() if k not in ("tenant", "token")]
    )
    answer = await ask(
        request,
        agent,
        service=service,
        base_url=base_url,
        method=request.method,
        path=path,
        tenant_id=tenant_id,
        params=params,
        content=body,
    )
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type"),
    )
