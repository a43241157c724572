"""A new job, whoever asks for it (a dispatcher, or an agent's `job.requested`): announced as
created, then despatched automatically to the best technician, or offered to the nearest for
their ETAs."""

from __future__ import annotations

from datetime import datetime

from switchboard.common.runtime import Transaction
from switchboard.dispatch import despatch, eta, jobs, store


async def open_job(
    tx: Transaction, job: store.Job, *, now: datetime, actor: str, request_eta: bool
) -> None:
    """A new job: announced as created, then despatched automatically (or offered for ETAs)."""
    await store.lock_tenant(tx.session, tenant_id=job.tenant_id)
    tx.session.add(job)
    await store.log(tx.session, job=job, action="created", actor=actor)
    await jobs.announce(tx, job, None, reason=f"created by {actor}")
    if request_eta:
        asked = await eta.candidates(tx, job, now)
        if asked:
            tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
            await eta.request(
                tx,
                job,
                asked,
                rule="earliest",
                now=now,
                actor=actor,
                reply_within_minutes=tenant.config.eta_reply_minutes,
            )
            return
    await despatch.auto_despatch(tx, job, now=now)
