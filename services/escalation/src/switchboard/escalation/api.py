"""Escalation's API (operator token, tenant-scoped): a contact's clocks, the complaints report,
the policies in force and the timers pending."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from switchboard.common.auth import OPERATORS, operator_tenant, policy
from switchboard.common.envelope import aware
from switchboard.common.runtime import runtime_of
from switchboard.escalation import store
from switchboard.escalation.context import Escalation

router = APIRouter(
    prefix="/v1",
    tags=["escalation"],
    dependencies=[policy(read=OPERATORS, write=("team_leader",))],
)
Tenant = Annotated[str, Depends(operator_tenant)]


@router.get("/contacts/{contact_id}/sla")
async def contact_sla(contact_id: str, request: Request, tenant_id: Tenant) -> dict[str, Any]:
    """The contact's clocks: what was promised (`kind`, `within`, `measure`, the policy version),
    when it falls due (`due_at`, and `warn_at`) and where it stands (`state`: running, met,
    breached, met_late), and the escalation level reached."""
    async with runtime_of(request).db.reader() as session:
        contact = await session.get(store.WatchedContact, contact_id)
        if contact is None or contact.tenant_id != tenant_id:
            raise HTTPException(404, "no clocks for that contact")
        clocks = await store.clocks_of(session, contact_id=contact_id)
    return {
        "contact_id": contact_id,
        "level": contact.level,
        "clocks": [c.model_dump(mode="json", exclude={"tenant_id", "contact_id"}) for c in clocks],
    }


@router.get("/complaints")
async def complaints_report(
    request: Request,
    tenant_id: Tenant,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> dict[str, Any]:
    """Complaints raised in [from, to): how many were acknowledged and responded to on time, late,
    or are still open, and which are overdue now."""
    if end <= start:
        raise HTTPException(422, "`to` must be after `from`")
    escalation = Escalation.of(request)
    runtime, clock = escalation.runtime, escalation.clock
    async with runtime.db.reader() as session:
        clocks = await store.complaint_clocks(session, tenant_id=tenant_id, start=start, end=end)
    now = clock.now()
    report: dict[str, Any] = {"complaints": len({c.ref for c in clocks}), "overdue": []}
    for kind in ("complaint_acknowledge", "complaint_respond"):
        mine = [c for c in clocks if c.kind == kind]
        report[kind.removeprefix("complaint_")] = {
            "on_time": sum(c.state == "met" for c in mine),
            "late": sum(c.state == "met_late" for c in mine),
            "open": sum(c.state in ("running", "breached") for c in mine),
        }
        report["overdue"] += [
            {
                "complaint_id": c.ref,
                "contact_id": c.contact_id,
                "clock": kind,
                "due_at": c.due_at.isoformat(),
            }
            for c in mine
            if c.state in ("running", "breached") and aware(c.due_at) <= now
        ]
    return report


@router.get("/policies")
async def policies(request: Request, tenant_id: Tenant) -> list[dict[str, Any]]:
    """Every version of the tenant's SLA policies; `current` marks the ones new contacts get."""
    async with runtime_of(request).db.reader() as session:
        rows = await store.policy_versions(session, tenant_id=tenant_id)
        return [r.model_dump(mode="json", exclude={"tenant_id", "digest"}) for r in rows]
