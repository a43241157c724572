"""Recording's HTTP surface (operator token, scoped to its tenant): contacts, KPIs and surveys."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from pydantic import Field as PydanticField

from switchboard.common.auth import OPERATORS, may, operator_tenant, policy
from switchboard.common.envelope import Envelope
from switchboard.common.events.records import SurveyResponded
from switchboard.common.runtime import runtime_of
from switchboard.recording import customers, kpis, store
from switchboard.recording.deps import CUSTOMER_KEEPERS, KEEPERS, Who, access_reason
from switchboard.recording.domain import chat_transcript

router = APIRouter(
    prefix="/v1",
    tags=["recording"],
    dependencies=[policy(read=OPERATORS, write=CUSTOMER_KEEPERS)],
)


class TimelineItem(BaseModel):
    event_id: str
    event_type: str
    occurred_at: datetime
    causation_id: str | None
    details: dict[str, Any]


class ContactView(BaseModel):
    """A contact as recorded; a chat's `transcript` is its lines in order, both sides."""

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
    offered_at: datetime | None
    assigned_at: datetime | None
    wrapped_at: datetime | None
    waited_seconds: float | None
    handle_seconds: float | None
    outcome: str | None
    escalated: bool | None
    assignments: int = 0
    """Times the contact was assigned: more than once, it was transferred."""
    customer_id: str | None
    deidentified_at: datetime | None
    timeline: list[TimelineItem]
    transcript: list[dict[str, Any]] = []


CSV_COLUMNS = (
    "contact_id",
    "channel",
    "status",
    "received_at",
    "offered_at",
    "assigned_at",
    "wrapped_at",
    "abandoned_at",
    "queue_id",
    "agent_id",
    "waited_seconds",
    "handle_seconds",
    "disposition",
    "outcome",
    "escalated",
    "customer_id",
    "conversation_id",
)


@router.get("/contacts.csv", dependencies=[KEEPERS])
async def export_contacts(
    request: Request,
    who: Who,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> StreamingResponse:
    """The contacts received in [from, to) as CSV, one row each, oldest first, read in pages. It
    names customers by id only: their details are in the audited customer endpoints. The export
    itself is in the access audit (customer `*`, with the period)."""
    if end <= start:
        raise HTTPException(422, "`to` must be after `from`")
    runtime = runtime_of(request)
    tenant_id = who.tenant_id
    async with runtime.db.session() as session:
        customers.audit(
            session,
            tenant_id=tenant_id,
            customer_id=customers.EVERY_CUSTOMER,
            actor=who.label,
            action="export",
            reason=access_reason(request),
            details={"from": start.isoformat(), "to": end.isoformat(), "of": "contacts"},
        )

    async def rows() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        async with runtime.db.reader() as session:
            async for page in store.contacts_between(
                session, tenant_id=tenant_id, start=start, end=end
            ):
                for contact in page:
                    writer.writerow(
                        "" if (v := getattr(contact, c)) is None else v for c in CSV_COLUMNS
                    )
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    filename = f"contacts-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/contacts/{contact_id}", response_model=ContactView, dependencies=[KEEPERS])
async def get_contact(contact_id: str, request: Request, who: Who) -> ContactView:
    """The contact with its timeline, one entry per event applied, in the order they occurred.
    A contact of another tenant is answered 404, as if absent. Each read is in the access audit."""
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        contact = await store.contact(session, contact_id=contact_id, tenant_id=who.tenant_id)
        if contact is None:
            raise HTTPException(404, "no such contact")
        entries = await store.timeline(session, contact_id=contact_id)
        customers.audit(
            session,
            tenant_id=who.tenant_id,
            customer_id=contact.customer_id or customers.UNKNOWN,
            actor=who.label,
            action="read",
            reason=access_reason(request),
            details={"contact_id": contact_id},
        )
    return ContactView(
        **contact.model_dump(exclude={"customer_name", "customer_email", "customer_phone"}),
        customer={
            "name": contact.customer_name,
            "email": contact.customer_email,
            "phone": contact.customer_phone,
        },
        timeline=[TimelineItem.model_validate(e, from_attributes=True) for e in entries],
        transcript=chat_transcript(contact.text, entries) if contact.channel == "chat" else [],
    )


# -- KPIs --------------------------------------------------------------------------------------


@router.get("/kpis")
async def get_kpis(
    request: Request,
    tenant_id: Annotated[str, Depends(operator_tenant)],
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    queue: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """The tenant's KPIs for contacts received in [from, to), optionally for one queue. Each figure
    is defined in `switchboard.recording.kpis` (null where nothing in the period qualifies)."""
    if tenant is not None and tenant != tenant_id:
        raise HTTPException(403, "this token is not for that tenant")
    if end <= start:
        raise HTTPException(422, "`to` must be after `from`")
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        figures = await kpis.compute(session, kpis.Period(tenant_id, start, end, queue))
    return {"tenant": tenant_id, "from": start, "to": end, "queue": queue, **figures}


# -- customers (every read audited) ------------------------------------------------------------


class SurveyAnswer(BaseModel):
    csat: int | None = PydanticField(default=None, ge=1, le=5)
    nps: int | None = PydanticField(default=None, ge=0, le=10)
    comment: str | None = PydanticField(default=None, max_length=2000)


@router.post("/contacts/{contact_id}/survey", status_code=202, dependencies=[may("team_leader")])
async def survey_answer(
    contact_id: str, body: SurveyAnswer, request: Request, who: Who
) -> dict[str, Any]:
    """The customer's post-contact survey answer, as the survey system collected it: satisfaction
    (`csat`, 1-5) and likelihood to recommend (`nps`, 0-10). Applied as `survey.responded`."""
    if body.csat is None and body.nps is None:
        raise HTTPException(422, "give csat (1-5), nps (0-10) or both")
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        contact = await store.contact(tx.session, contact_id=contact_id, tenant_id=who.tenant_id)
        if contact is None:
            raise HTTPException(404, "no such contact")
        event = Envelope.first(
            SurveyResponded(**body.model_dump(), source=who.label),
            tenant_id=who.tenant_id,
            aggregate_id=contact_id,
            contact_id=contact_id,
            correlation_id=contact.conversation_id,
        )
        await tx.emit(event)
    return {"contact_id": contact_id, "event_id": event.event_id}
