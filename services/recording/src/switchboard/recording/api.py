"""Recording's HTTP surface (operator token, scoped to its tenant)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.auth import OPERATORS, Operator, may, operator, operator_tenant, policy
from switchboard.common.envelope import Envelope
from switchboard.common.events.records import CustomerCorrected, SurveyResponded
from switchboard.common.runtime import runtime_of
from switchboard.recording import casework, customers, kpis, store
from switchboard.recording.domain import chat_transcript

CUSTOMER_KEEPERS = ("team_leader", "privacy_officer")
"""Who may read customers' records and contacts' content: a read-only person sees figures only."""
router = APIRouter(
    prefix="/v1",
    tags=["recording"],
    dependencies=[policy(read=OPERATORS, write=CUSTOMER_KEEPERS)],
)
KEEPERS = may(*CUSTOMER_KEEPERS)
Who = Annotated[Operator, Depends(operator)]


def _reason(request: Request) -> str:
    return request.headers.get("x-access-reason", "").strip()[:500] or "not given"


PRIVACY = may("privacy_officer")


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
    "contact_id", "channel", "status", "received_at", "offered_at", "assigned_at", "wrapped_at",
    "abandoned_at", "queue_id", "agent_id", "waited_seconds", "handle_seconds", "disposition",
    "outcome", "escalated", "customer_id", "conversation_id",
)  # fmt: skip


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
            reason=_reason(request),
            details={"from": start.isoformat(), "to": end.isoformat(), "of": "contacts"},
        )

    async def rows() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        async with runtime.db.reader() as session:
            async for page in store.contacts_between(session, tenant_id, start, end):
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
            reason=_reason(request),
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

HISTORY_FIELDS = {
    "contact_id", "channel", "status", "received_at", "queue_id", "agent_id", "disposition",
    "outcome", "subject",
}  # fmt: skip


@router.get("/customers", dependencies=[KEEPERS])
async def find_customers(
    request: Request,
    who: Who,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """Customers matching an email address, an E.164 phone number or part of a name."""
    if not (email or phone or name):
        raise HTTPException(422, "give email, phone or name")
    runtime = runtime_of(request)
    async with runtime.db.session(snapshot=True) as session:
        found = await customers.find(
            session, tenant_id=who.tenant_id, email=email, phone=phone, name=name
        )
        for customer in found:
            customers.audit(
                session,
                tenant_id=who.tenant_id,
                customer_id=customer.customer_id,
                actor=who.label,
                action="search",
                reason=_reason(request),
            )
        return [await _summary(session, c) for c in found]


@router.get("/customers/{customer_id}", dependencies=[KEEPERS])
async def customer_history(customer_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The customer, their identities and every contact they made, newest last."""
    runtime = runtime_of(request)
    async with runtime.db.session(snapshot=True) as session:
        customer = await _customer(session, who, customer_id, "read", _reason(request))
        history = await customers.contacts(session, customer.customer_id)
        return {
            **(await _summary(session, customer)),
            "contacts": [c.model_dump(mode="json", include=HISTORY_FIELDS) for c in history],
        }


@router.get("/customers/{customer_id}/export", dependencies=[KEEPERS])
async def export_customer(customer_id: str, request: Request, who: Who) -> dict[str, Any]:
    """Everything held about the customer, as one document (an access request, APP 12)."""
    runtime = runtime_of(request)
    async with runtime.db.session(snapshot=True) as session:
        customer = await _customer(session, who, customer_id, "export", _reason(request))
        contacts = await customers.contacts(session, customer.customer_id)
        return {
            "customer": customer.model_dump(mode="json"),
            "identities": [
                {"kind": i.kind, "value": i.value}
                for i in await customers.identities(session, customer.customer_id)
            ],
            "contacts": [
                {
                    **c.model_dump(mode="json"),
                    "timeline": [
                        e.model_dump(mode="json")
                        for e in await store.timeline(session, contact_id=c.contact_id)
                    ],
                }
                for c in contacts
            ],
            **(await casework.of_contacts(session, [c.contact_id for c in contacts])),
            "corrections": [
                c.model_dump(mode="json", exclude={"tenant_id"})
                for c in await customers.corrections(session, customer.customer_id)
            ],
            "access_log": [
                a.model_dump(mode="json", exclude={"id"})
                for a in await customers.audit_trail(session, customer.customer_id)
            ],
        }


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


class MergeRequest(BaseModel):
    absorb: str
    reason: str


@router.post("/customers/{customer_id}/merge", dependencies=[PRIVACY])
async def merge_customers(
    customer_id: str, body: MergeRequest, request: Request, who: Who
) -> dict[str, Any]:
    """Merge another customer into this one (their identities and contacts move here); audited
    on both."""
    if body.absorb == customer_id:
        raise HTTPException(422, "a customer cannot be merged into itself")
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        for wanted in (customer_id, body.absorb):
            if await customers.get(session, tenant_id=who.tenant_id, customer_id=wanted) is None:
                raise HTTPException(404, f"no such customer: {wanted}")
        await customers.merge(
            session,
            tenant_id=who.tenant_id,
            keep=customer_id,
            absorb=body.absorb,
            actor=who.label,
            reason=body.reason,
        )
    return {"customer_id": customer_id, "absorbed": body.absorb}


class CorrectionRequest(BaseModel):
    field: Literal["name", "email", "phone", "postal_address"]
    old_value: str | None = None
    new_value: str = PydanticField(min_length=1, max_length=400)
    reason: str = PydanticField(min_length=1, max_length=500)


@router.post("/customers/{customer_id}/corrections", status_code=202, dependencies=[PRIVACY])
async def correct_customer(
    customer_id: str, body: CorrectionRequest, request: Request, who: Who
) -> dict[str, Any]:
    """Correct personal information on the customer's request (APP 13). It is applied as a
    `customer.corrected` event; the old value stays in the export's `corrections` history."""
    if body.field == "email" and "@" not in body.new_value:
        raise HTTPException(422, "new_value is not an email address")
    if body.field == "phone" and not re.fullmatch(r"\+[1-9][0-9]{6,14}", body.new_value):
        raise HTTPException(422, "new_value must be an E.164 number, e.g. +61412345678")
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        customer = await customers.get(tx.session, tenant_id=who.tenant_id, customer_id=customer_id)
        if customer is None:
            raise HTTPException(404, "no such customer")
        if body.field != "name":
            held = {i.value for i in await customers.identities(tx.session, customer_id)
                    if i.kind == body.field}  # fmt: skip
            if customers.normalised(body.field, body.old_value or "") not in held:
                raise HTTPException(422, f"the customer has no {body.field} {body.old_value!r}")
        theirs = await customers.contacts(tx.session, customer_id)
        event = Envelope.first(
            CustomerCorrected(
                **body.model_dump(),
                actor=who.label,
                contact_ids=[c.contact_id for c in theirs],
                conversation_ids=sorted({c.conversation_id for c in theirs if c.conversation_id}),
            ),
            tenant_id=who.tenant_id,
            aggregate_id=customer_id,
        )
        await tx.emit(event)
    return {"customer_id": customer_id, "event_id": event.event_id}


async def _customer(
    session: AsyncSession, who: Operator, customer_id: str, action: str, reason: str
) -> customers.RecordedCustomer:
    customer = await customers.get(session, tenant_id=who.tenant_id, customer_id=customer_id)
    if customer is None:
        raise HTTPException(404, "no such customer")
    customers.audit(
        session,
        tenant_id=who.tenant_id,
        customer_id=customer_id,
        actor=who.label,
        action=action,
        reason=reason,
    )
    return customer


async def _summary(session: AsyncSession, customer: customers.RecordedCustomer) -> dict[str, Any]:
    known = await customers.identities(session, customer.customer_id)
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "identities": {
            kind: [i.value for i in known if i.kind == kind] for kind in customers.IDENTITY_KINDS
        },
    }


# -- retention ---------------------------------------------------------------------------------
