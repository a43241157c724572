"""Retention: when a contact is a customer asking to leave (its queue is one of the tenant's
cancellation queues), the offers that fit what the agent knows of them (reason, tenure, value,
contract end), and the offer made with the customer's answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from switchboard.catalogue import domain, store
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.store import RetentionAttempt
from switchboard.common.auth import Who, policy
from switchboard.common.envelope import Envelope
from switchboard.common.events.catalogue import RetentionOffered
from switchboard.common.ids import new_id

router = APIRouter(
    prefix="/v1/retention",
    tags=["retention"],
    dependencies=[policy(read=("agent", "team_leader"), write=("agent", "team_leader"))],
)


@router.get("")
async def rules(who: Who, request: Request, queue_id: str | None = None) -> dict[str, Any]:
    """Whether a contact of `queue_id` is a cancellation, the reasons for leaving, the offers."""
    async with Catalogue.of(request).runtime.db.reader() as session:
        found = await store.tenant_rules(session, tenant_id=who.tenant_id)
    return {
        "cancellation": queue_id in found.cancellation_queues,
        "cancellation_queues": found.cancellation_queues,
        "reasons": found.leaving_reasons,
        "offers": [o.model_dump(mode="json") for o in found.retention_offers],
    }


class Leaving(BaseModel):
    reason: str = Field(min_length=1, max_length=64)
    tenure_months: int = Field(ge=0, le=1200)
    monthly_value: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    contract_ends: date | None = None


async def _fitting(request: Request, tenant_id: str, body: Leaving) -> list[Any]:
    async with Catalogue.of(request).runtime.db.reader() as session:
        found = await store.tenant_rules(session, tenant_id=tenant_id)
    if body.reason not in found.leaving_reasons:
        raise domain.Refused(f"a reason is one of: {', '.join(found.leaving_reasons)}")
    leaving = domain.Leaving(
        body.reason, body.tenure_months, body.monthly_value, body.contract_ends
    )
    return domain.fitting_offers(found.retention_offers, leaving, date.today())


@router.post("/suggest")
async def suggest(body: Leaving, who: Who, request: Request) -> dict[str, Any]:
    """The retention offers that fit this customer, best fit first."""
    offers = await _fitting(request, who.tenant_id, body)
    return {"offers": [o.model_dump(mode="json") for o in offers]}


class Made(Leaving):
    contact_id: str = Field(pattern=r"^[0-9a-f-]{36}$")
    offer_id: str = Field(max_length=64)
    answer: Literal["accepted", "declined"]


@router.post("/offers", status_code=201)
async def made(body: Made, who: Who, request: Request) -> dict[str, Any]:
    """An offer made and the customer's answer: recorded here and on the contact (the KPIs count
    saves)."""
    offer = next(
        (o for o in await _fitting(request, who.tenant_id, body) if o.id == body.offer_id), None
    )
    if offer is None:
        raise domain.Refused(f"offer {body.offer_id!r} does not fit this customer")
    agent = (who.agent_id or who.person)[:64]
    attempt = RetentionAttempt(
        attempt_id=new_id(),
        tenant_id=who.tenant_id,
        contact_id=body.contact_id,
        agent_id=agent,
        offer_id=offer.id,
        name=offer.name,
        reason=body.reason,
        tenure_months=body.tenure_months,
        monthly_value_cents=domain.cents(body.monthly_value),
        contract_ends=body.contract_ends,
        answer=body.answer,
    )
    async with Catalogue.of(request).runtime.transaction() as tx:
        tx.session.add(attempt)
        payload = RetentionOffered(
            offer_id=offer.id,
            name=offer.name,
            agent_id=agent,
            reason=body.reason,
            answer=body.answer,
        )
        await tx.emit(
            Envelope.about_contact(payload, tenant_id=who.tenant_id, contact_id=body.contact_id)
        )
    return attempt.model_dump(mode="json")


@router.get("/offers")
async def offers_made(who: Who, request: Request, contact_id: str) -> dict[str, Any]:
    async with Catalogue.of(request).runtime.db.reader() as session:
        rows = await store.retention_attempts(
            session, tenant_id=who.tenant_id, contact_id=contact_id
        )
    return {"offers": [r.model_dump(mode="json") for r in rows]}
