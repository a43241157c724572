"""What dispatch's routes share: the operator asking (tenant-scoped), the service's clock,
refusals answered 409 with nothing kept, and the job or technician a change is about."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from switchboard.common.auth import Operator, operator
from switchboard.common.errors import Refused
from switchboard.common.runtime import Transaction
from switchboard.dispatch import store
from switchboard.dispatch.context import Dispatch

Who = Annotated[Operator, Depends(operator)]


def now_of(request: Request) -> datetime:
    return Dispatch.of(request).clock.now()


@asynccontextmanager
async def refusals() -> AsyncIterator[None]:
    """What the status machine, a request for ETA or a message's state refuses is a 409 with the
    reason, and nothing of the request is kept."""
    try:
        yield
    except Refused as refused:
        raise HTTPException(409, refused.reason) from None


async def job_for_change(tx: Transaction, job_id: str, tenant_id: str) -> store.Job:
    """The tenant's job, locked for a change (after the tenant's despatch lock)."""
    await store.lock_tenant(tx.session, tenant_id=tenant_id)
    job = await store.job_for_update(tx.session, job_id=job_id)
    if job is None or job.tenant_id != tenant_id:
        raise HTTPException(404, "no such job")
    return job


async def technician_of(tx: Transaction, technician_id: str, tenant_id: str) -> store.Technician:
    tech = await tx.session.get(store.Technician, technician_id)
    if tech is None or tech.tenant_id != tenant_id:
        raise HTTPException(422, f"no technician {technician_id!r}")
    return tech


def held_by(job: store.Job, technician_id: str) -> None:
    if job.technician_id != technician_id:
        raise HTTPException(409, f"the job is not despatched to {technician_id}")
