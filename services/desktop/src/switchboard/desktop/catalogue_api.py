"""The desktop's product and knowledge pages: the catalogue's API asked for the person signed in
(products, knowledge search, orders, retention offers), and the knowledge and retention offers
suggested for a contact, worked out from the desktop's own copy of it (its words and queue), so
the contact's text never has to leave for the catalogue to keep."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from switchboard.common.runtime import runtime_of
from switchboard.desktop import gateway
from switchboard.desktop.commands import Agent, contact_of
from switchboard.desktop.context import Desktop
from switchboard.desktop.settings import DesktopSettings

router = APIRouter(prefix="/v1/catalogue", tags=["desktop"])
FORWARDED = ("products", "knowledge", "orders", "retention")
"""The catalogue's APIs the desktop passes on (never its imports)."""


def _settings(request: Request) -> DesktopSettings:
    return Desktop.of(request).settings


@router.get("/contacts/{contact_id}/suggestions")
async def suggestions(contact_id: str, agent: Agent, request: Request) -> dict[str, Any]:
    """Articles and scripts for the contact, and whether it is a customer asking to leave (with
    the reasons the retention panel offers)."""
    async with runtime_of(request).db.reader() as session:
        contact = await contact_of(session, agent, contact_id)
    base, tenant_id = _settings(request).catalogue_url, contact.tenant_id
    words = "\n".join(part for part in (contact.subject, contact.text) if part)
    suggested = await gateway.ask(
        request,
        agent,
        service="catalogue",
        base_url=base,
        method="POST",
        path="/v1/knowledge/suggest",
        tenant_id=tenant_id,
        json={"text": words[:100_000], "queue_id": contact.queue_id},
    )
    retention = await gateway.ask(
        request,
        agent,
        service="catalogue",
        base_url=base,
        method="GET",
        path="/v1/retention",
        tenant_id=tenant_id,
        params={"queue_id": contact.queue_id or ""},
    )
    for answer in (suggested, retention):
        if answer.status_code != 200:
            raise HTTPException(502, f"the catalogue answered {answer.status_code}")
    return {
        "contact_id": contact_id,
        "queue_id": contact.queue_id,
        **suggested.json(),
        "retention": retention.json(),
    }


async def _contact_is_theirs(request: Request, agent: Any) -> None:
    """An order, an article used or a retention offer is about a contact the desktop holds for
    one of the agent's tenants (404 otherwise), never just any id."""
    try:
        contact_id = json.loads(await request.body() or b"{}").get("contact_id")
    except (ValueError, AttributeError):
        return  # not a JSON object: the catalogue refuses it with the reason
    if isinstance(contact_id, str):
        async with runtime_of(request).db.reader() as session:
            await contact_of(session, agent, contact_id)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
async def forward(path: str, agent: Agent, request: Request, tenant: str | None = None) -> Response:
    """The catalogue's `/v1/<path>`, asked for the person signed in."""
    if path.split("/")[0] not in FORWARDED:
        raise HTTPException(404, "not found")
    if request.method == "POST":
        await _contact_is_theirs(request, agent)
    return await gateway.forward(
        request,
        agent,
        service="catalogue",
        base_url=_settings(request).catalogue_url,
        path=f"/v1/{path}",
        tenant=tenant,
    )
