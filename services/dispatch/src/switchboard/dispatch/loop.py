"""Dispatch's background loop: delivers what transactions recorded as sent (each message once
the transaction that decided it has committed; a crash between delivery and its record delivers
it again, which the drop folders and the mail sink absorb by naming files by the message's id),
and fires deadlines — an unconfirmed job is re-despatched, silent recipients are chased, ETA
replies are closed — each in the transaction that deletes it, so none fires twice."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge

from switchboard.common.clock import Clock, DueLoop
from switchboard.common.runtime import Runtime, Transaction
from switchboard.dispatch import eta, fieldcomm, jobs, store
from switchboard.dispatch.adapters.media import Media, deliver

BATCH = 100


class Loop:
    def __init__(self, runtime: Runtime, clock: Clock, media: Media, *, tick: float) -> None:
        self.runtime, self.clock, self.media = runtime, clock, media
        self.loop = DueLoop(clock, tick=tick, name="dispatch")
        self.jobs_by_status = Gauge(
            "switchboard_dispatch_jobs", "Jobs by status", ["status"], registry=runtime.metrics
        )

    def wake(self) -> None:
        self.loop.wake()

    async def deliver_pending(self) -> int:
        async with self.runtime.db.session() as session:
            pending = await store.undelivered(session, BATCH)
            for sent in pending:
                await deliver(self.media, sent)
                sent.delivered_at = self.clock.now()
                session.add(sent)
        return len(pending)

    async def fire_due(self) -> int:
        """Fire a batch of due deadlines per tenant, each tenant's under its despatch lock."""
        now = self.clock.now()
        async with self.runtime.db.reader() as session:
            tenants = await store.tenants_due(session, now)
        fired = 0
        for tenant_id in tenants:
            async with self.runtime.transaction() as tx:
                await store.lock_tenant(tx.session, tenant_id)
                due = await store.due_deadlines(tx.session, now, BATCH, tenant_id)
                for deadline in due:
                    await tx.session.delete(deadline)
                    await fire(tx, deadline, now=now)
            fired += len(due)
        return fired

    async def count_jobs(self) -> None:
        async with self.runtime.db.reader() as session:
            for status, count in await store.jobs_by_status(session):
                self.jobs_by_status.labels(status).set(count)

    async def _busy(self) -> bool:
        return bool(await self.fire_due() + await self.deliver_pending())

    async def _upcoming(self) -> datetime | None:
        await self.count_jobs()
        async with self.runtime.db.reader() as session:
            return await store.next_deadline(session)

    async def run(self) -> None:
        await self.loop.run(self._busy, self._upcoming)


async def fire(tx: Transaction, deadline: store.Deadline, *, now: datetime) -> None:
    if deadline.kind == "chase":
        message = await tx.session.get(store.FieldMessage, deadline.ref)
        if message is not None and message.status == "sent":
            await fieldcomm.chase(tx, message, now=now)
        return
    job = await store.job_for_update(tx.session, deadline.ref)
    if job is None:
        return
    with jobs.in_job_trace(tx, job, f"dispatch {deadline.kind} deadline"):
        if deadline.kind == "confirm":
            if job.status == "despatched" and job.technician_id == deadline.technician_id:
                tenant = await store.tenant(tx.session, job.tenant_id)
                minutes = tenant.config.confirm_within_minutes
                await jobs.not_taken(
                    tx,
                    job,
                    now=now,
                    actor="automatic",
                    action="timed_out",
                    reason=f"{job.technician_id} did not confirm within {minutes} min",
                )
        elif deadline.kind == "eta" and job.status == "created":
            requests = await store.eta_requests(tx.session, job.job_id)
            if requests and requests[0].rule == "earliest":
                await eta.pick_earliest(tx, job, now=now, why="time for replies is up")
            else:
                await jobs.flag(tx, job, now=now, reason="ETA replies are in; a dispatcher picks")
