"""Recording's HTTP surface (operator token, scoped to its tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from switchboard.common.auth import operator_tenant
from switchboard.common.runtime import Runtime
from switchboard.recording import store

router = APIRouter(prefix="/v1", tags=["recording"])


class TimelineItem(BaseModel):
    event_id: str
    event_type: str
    occurred_at: datetime
    causation_id: str | None
    details: dict[str, Any]


class ContactView(BaseModel):
    contact_id: str
    tenant_id: str
    status: str
    channel: str | None
    conversation_id: str | None
    received_at: datetime | None
    customer: dict[str, str | None]
    subject: str | None
    text: str | None
    queue_id: str | None
    not_routed_reason: str | None
    agent_id: str | None
    disposition: str | None
    flags: list[str]
    masked: list[str]
    attachments: list[dict[str, Any]]
    answered_at: datetime | None
    abandoned_at: datetime | None
    ended_at: datetime | None
    timeline: list[TimelineItem]


@router.get("/contacts/{contact_id}", response_model=ContactView)
async def get_contact(
    contact_id: str, request: Request, tenant_id: Annotated[str, Depends(operator_tenant)]
) -> ContactView:
    """The contact with its timeline, one entry per event applied, in the order they occurred.
    A contact of another tenant is answered 404, as if absent."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.reader() as session:
        contact = await store.contact(session, contact_id=contact_id, tenant_id=tenant_id)
        if contact is None:
            raise HTTPException(404, "no such contact")
        entries = await store.timeline(session, contact_id=contact_id)
    return ContactView(
        **contact.model_dump(exclude={"customer_name", "customer_email", "customer_phone"}),
        customer={
            "name": contact.customer_name,
            "email": contact.customer_email,
            "phone": contact.customer_phone,
        },
        timeline=[TimelineItem.model_validate(e, from_attributes=True) for e in entries],
    )
