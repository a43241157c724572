"""Dispatch's background loop: delivers what transactions recorded as sent (each message once
the transaction that decided it has committed; a crash between delivery and its record delivers
it again, which the drop folders and the mail sink absorb by naming files by the message's id),
and fires deadlines — an unconfirmed job is re-despatched, silent recipients are chased, ETA
replies are closed — each in the transaction that deletes it, so none fires twice.

Nothing one message or deadline does can stop the rest: a message no medium will take (an address
the mail library refuses, a relay's permanent refusal) is set aside with the reason and its job is
flagged for a dispatcher; a deadline that cannot fire is retried on its own, then set aside
(switchboard.common.setaside). Only a medium or database that is away holds the loop."""

from __future__ import annotations

import functools
from datetime import datetime

from prometheus_client import Gauge

from switchboard.common import setaside
from switchboard.common.clock import GAUGE_SECONDS, Clock, DueLoop, Every
from switchboard.common.delivery import classify
from switchboard.common.runtime import Runtime, Transaction
from switchboard.dispatch import despatch, eta, fieldcomm, jobs, messages_store, store
from switchboard.dispatch.adapters.media import Media, deliver

BATCH = 100
DELIVERY = "dispatch.delivery"


class Loop:
    def __init__(self, runtime: Runtime, clock: Clock, media: Media, *, tick: float) -> None:
        self.runtime, self.clock, self.media = runtime, clock, media
        self.loop = DueLoop(clock, tick=tick, name="dispatch")
        self.gauges = Every(GAUGE_SECONDS)
        self.attempts = setaside.Attempts()
        self.set_aside = setaside.counter(runtime.metrics)
        self.jobs_by_status = Gauge(
            "switchboard_dispatch_jobs", "Jobs by status", ["status"], registry=runtime.metrics
        )

    def wake(self) -> None:
        self.loop.wake()

    async def deliver_pending(self) -> int:
        waiting_out: BaseException | None = None
        async with self.runtime.transaction() as tx:
            pending = await messages_store.undelivered(tx.session, limit=BATCH)
            for sent in pending:
                try:
                    await deliver(self.media, sent)
                except Exception as error:
                    if not self.attempts.failed(sent.sent_id, error):
                        waiting_out = error  # the medium away, or worth another try: later
                        break
                    await self._undeliverable(tx, sent, error)
                    continue
                self.attempts.forget(sent.sent_id)
                sent.delivered_at = self.clock.now()
                tx.session.add(sent)
        if waiting_out is not None:
            raise waiting_out
        return len(pending)

    async def _undeliverable(
        self, tx: Transaction, sent: messages_store.Sent, error: Exception
    ) -> None:
        entry = await setaside.set_aside(
            tx.session,
            service="dispatch",
            loop=DELIVERY,
            ref=sent.sent_id,
            error=error,
            attempts=self.attempts.count(sent.sent_id),
        )
        self.attempts.forget(sent.sent_id)
        self.set_aside.labels(loop=DELIVERY).inc()
        job = await store.job_for_update(tx.session, job_id=sent.job_id) if sent.job_id else None
        if job is not None and sent.to != "customer":
            reason = f"the {sent.medium} to {sent.to} could not be delivered ({entry.reason})"
            await jobs.flag(tx, job, now=self.clock.now(), reason=reason)

    async def fire_due(self) -> int:
        """Fire a batch of due deadlines per tenant, each tenant's under its despatch lock."""
        now = self.clock.now()
        async with self.runtime.db.reader() as session:
            tenants = await store.tenants_due(session, now=now)
        fired = 0
        for tenant_id in tenants:
            try:
                fired += await self._fire(tenant_id, now)
            except Exception as error:
                if classify(error) == "transient":
                    raise
                async with self.runtime.db.reader() as session:
                    due = await store.due_deadlines(
                        session, now=now, limit=BATCH, tenant_id=tenant_id
                    )
                fired += await setaside.one_by_one(
                    [str(deadline.id) for deadline in due],
                    functools.partial(self._fire_one, tenant_id, now),
                    self._set_deadline_aside,
                    self.attempts,
                )
        return fired

    async def _fire_one(self, tenant_id: str, now: datetime, ref: str) -> int:
        return await self._fire(tenant_id, now, only=int(ref))

    async def _fire(self, tenant_id: str, now: datetime, *, only: int | None = None) -> int:
        async with self.runtime.transaction() as tx:
            await store.lock_tenant(tx.session, tenant_id=tenant_id)
            due = await store.due_deadlines(tx.session, now=now, limit=BATCH, tenant_id=tenant_id)
            for deadline in due:
                if only is None or deadline.id == only:
                    await tx.session.delete(deadline)
                    await fire(tx, deadline, now=now)
        return len(due) if only is None else 1

    async def _set_deadline_aside(self, ref: str, error: BaseException) -> None:
        async with self.runtime.db.session() as session:
            deadline = await session.get(store.Deadline, int(ref))
            if deadline is not None:
                await setaside.set_aside(
                    session,
                    service="dispatch",
                    loop="dispatch.deadline",
                    ref=ref,
                    error=error,
                    attempts=self.attempts.count(ref),
                    row=deadline,
                )
        self.set_aside.labels(loop="dispatch.deadline").inc()

    async def count_jobs(self) -> None:
        async with self.runtime.db.reader() as session:
            for status, count in await store.jobs_by_status(session):
                self.jobs_by_status.labels(status).set(count)

    async def _busy(self) -> bool:
        return bool(await self.fire_due() + await self.deliver_pending())

    async def _upcoming(self) -> datetime | None:
        if self.gauges.due():
            await self.count_jobs()
        async with self.runtime.db.reader() as session:
            return await store.next_deadline(session)

    async def run(self) -> None:
        await self.loop.run(self._busy, self._upcoming)


async def fire(tx: Transaction, deadline: store.Deadline, *, now: datetime) -> None:
    if deadline.kind == "chase":
        message = await tx.session.get(messages_store.FieldMessage, deadline.ref)
        if message is not None and message.status == "sent":
            await fieldcomm.chase(tx, message, now=now)
        return
    job = await store.job_for_update(tx.session, job_id=deadline.ref)
    if job is None:
        return
    with jobs.in_job_trace(tx, job, f"dispatch {deadline.kind} deadline"):
        if deadline.kind == "confirm":
            if job.status == "despatched" and job.technician_id == deadline.technician_id:
                tenant = await store.tenant(tx.session, tenant_id=job.tenant_id)
                minutes = tenant.config.confirm_within_minutes
                await despatch.not_taken(
                    tx,
                    job,
                    now=now,
                    actor="automatic",
                    action="timed_out",
                    reason=f"{job.technician_id} did not confirm within {minutes} min",
                )
        elif deadline.kind == "eta" and job.status == "created":
            requests = await messages_store.eta_requests(tx.session, job_id=job.job_id)
            if requests and requests[0].rule == "earliest":
                await eta.pick_earliest(tx, job, now=now, why="time for replies is up")
            else:
                await jobs.flag(tx, job, now=now, reason="ETA replies are in; a dispatcher picks")
