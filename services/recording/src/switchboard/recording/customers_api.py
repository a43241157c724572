"""Customers' records: found, read (each read logged with its reason), exported, merged and
corrected."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.auth import OPERATORS, Operator, policy
from switchboard.common.envelope import Envelope
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.runtime import runtime_of
from switchboard.recording import casework, customers, store
from switchboard.recording.deps import CUSTOMER_KEEPERS, KEEPERS, PRIVACY, Who, access_reason

router = APIRouter(
    prefix="/v1",
    tags=["recording"],
    dependencies=[policy(read=OPERATORS, write=CUSTOMER_KEEPERS)],
)


HISTORY_FIELDS = {
    "contact_id",
    "channel",
    "status",
    "received_at",
    "queue_id",
    "agent_id",
    "disposition",
    "outcome",
    "subject",
}


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
                reason=access_reason(request),
            )
        return [await _summary(session, c) for c in found]


@router.get("/customers/{customer_id}", dependencies=[KEEPERS])
async def customer_history(customer_id: str, request: Request, who: Who) -> dict[str, Any]:
    """The customer, their identities and every contact they made, newest last."""
    runtime = runtime_of(request)
    async with runtime.db.session(snapshot=True) as session:
        customer = await _customer(session, who, customer_id, "read", access_reason(request))
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
        customer = await _customer(session, who, customer_id, "export", access_reason(request))
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
            held = {
                i.value
                for i in await customers.identities(tx.session, customer_id)
                if i.kind == body.field
            }
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
