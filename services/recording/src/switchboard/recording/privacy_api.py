"""The privacy officer's API: erasure requests through every service, and retention runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from pydantic import Field as PydanticField

from switchboard.common.auth import may
from switchboard.common.runtime import runtime_of
from switchboard.recording import customers, erasure, retention
from switchboard.recording.deps import Who

router = APIRouter(prefix="/v1", tags=["privacy"], dependencies=[may("privacy_officer")])


class ErasureAsked(BaseModel):
    reason: str = PydanticField(min_length=1, max_length=500)
    """Why (the customer's request, its reference)."""


@router.post("/customers/{customer_id}/erasure", status_code=202)
async def erase_customer(
    customer_id: str, body: ErasureAsked, request: Request, who: Who
) -> dict[str, Any]:
    """Erase what identifies the customer from every service (APP 11.2; the KPIs keep their
    figures). Recording's copies go at once; the others' as each reports, in the request's view."""
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        if (
            await customers.get(tx.session, tenant_id=who.tenant_id, customer_id=customer_id)
            is None
        ):
            raise HTTPException(404, "no such customer")
        record = await erasure.request(
            tx,
            tenant_id=who.tenant_id,
            customer_id=customer_id,
            actor=who.label,
            reason=body.reason,
        )
    return {"request_id": record.request_id, "contacts": record.contacts}


@router.get("/privacy/erasures/{request_id}")
async def erasure_progress(request_id: str, request: Request, who: Who) -> dict[str, Any]:
    """An erasure request's progress through every service, and its report once complete."""
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        found = await erasure.view(session, tenant_id=who.tenant_id, request_id=request_id)
    if found is None:
        raise HTTPException(404, "no such erasure request")
    return found


@router.get("/privacy/erasures")
async def erasure_requests(request: Request, who: Who) -> list[dict[str, Any]]:
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        rows = await erasure.requests(session, tenant_id=who.tenant_id)
    return [r.model_dump(mode="json", exclude={"tenant_id"}) for r in rows]


@router.post("/retention/run")
async def run_retention(request: Request, who: Who) -> dict[str, Any]:
    """De-identify the tenant's contacts older than its retention now (the job also runs on its
    own, hourly); returns what it did."""
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        reports = await retention.run(tx, tenant_id=who.tenant_id)
    if not reports:
        raise HTTPException(404, "the tenant has no record policy")
    return reports[0].model_dump(mode="json", exclude={"id"})


@router.get("/retention/runs")
async def retention_runs(request: Request, who: Who) -> list[dict[str, Any]]:
    runtime = runtime_of(request)
    async with runtime.db.reader() as session:
        return [
            r.model_dump(mode="json", exclude={"id"})
            for r in await retention.runs(session, who.tenant_id)
        ]
