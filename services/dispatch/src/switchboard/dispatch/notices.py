"""What a job sends: its job sheet to the technician over their medium, and notices to the customer
(through the Do Not Call gate)."""

from __future__ import annotations

from datetime import datetime

from switchboard.common.envelope import aware
from switchboard.common.events.outbound import OutboundRequested
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.dispatch import jobs, messages_store, store
from switchboard.dispatch.context import Dispatch


def job_sheet(job: store.Job, note: str | None = None) -> tuple[str, str]:
    """The subject and text a technician is sent: everything they need on site, nothing more (the
    payment is a token and its method, never a card number)."""
    subject = f"{job.priority.upper()} job {job.job_id[:8]}: {job.work_type} at {job.address}"
    lines = [
        f"Job: {job.job_id}",
        f"Priority: {job.priority}",
        f"Work: {job.work_type} (about {job.estimated_minutes} min)",
        f"Skills: {', '.join(job.skills) or '-'}",
        f"Site: {job.site_name + ', ' if job.site_name else ''}{job.address}",
        f"Location: {job.lat:.5f},{job.lon:.5f}",
        f"Window: {aware(job.window_start).isoformat()} to {aware(job.window_end).isoformat()}",
        *([f"Planned start: {aware(job.planned_start).isoformat()}"] if job.planned_start else []),
        f"Customer: {job.customer_name or '-'} {job.customer_phone or ''}".rstrip(),
    ]
    if job.payment_method:
        lines.append(f"Payment: {job.payment_method} (token {job.payment_token})")
    if job.special_instructions:
        lines.append(f"Instructions: {job.special_instructions}")
    if note:
        lines.append(f"Note from dispatch: {note}")
    lines.append("Reply CONFIRM to accept, or DECLINE with a reason.")
    return subject, "\n".join(lines)


def send(
    tx: Transaction,
    tech: store.Technician,
    subject: str,
    text: str,
    *,
    medium: str | None = None,
    job_id: str | None = None,
    message_id: str | None = None,
    now: datetime,
) -> messages_store.Sent:
    """Record a message to a technician exactly as it goes out; the loop delivers it once the
    transaction has committed."""
    sent = messages_store.Sent(
        sent_id=new_id(),
        tenant_id=tech.tenant_id,
        job_id=job_id,
        message_id=message_id,
        to=tech.technician_id,
        medium=medium or tech.medium,
        address=tech.address,
        subject=subject[:300],
        text=text,
        created_at=now,
        delivered_at=now if (medium or tech.medium) == "phone" else None,
    )
    tx.session.add(sent)
    tx.after_commit(Dispatch.of(tx).wake)  # once the row is there for the loop to see
    return sent


async def tell_customer(tx: Transaction, job: store.Job, *, now: datetime, text: str) -> None:
    """An outbound message to the job's customer: it waits for the DNC gate's answer."""
    if not job.customer_phone:
        await store.log(
            tx.session,
            job=job,
            action="customer_not_told",
            actor="automatic",
            reason="no phone number for the customer",
        )
        return
    notice = messages_store.CustomerNotice(
        request_id=new_id(),
        tenant_id=job.tenant_id,
        job_id=job.job_id,
        number=job.customer_phone,
        text=text,
    )
    tx.session.add(notice)
    request = OutboundRequested(
        request_id=notice.request_id,
        channel="sms",
        number=job.customer_phone,
        purpose="appointment",
        requested_by="dispatch",
        not_before=now,
    )
    await tx.emit(jobs.origin_of(job).event(request, aggregate_id=notice.request_id))
