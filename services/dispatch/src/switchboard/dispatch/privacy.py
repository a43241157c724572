"""Dispatch's part of an erasure request: the customer's field jobs (asked for from their contacts,
or made with their number), what was sent about them to technicians and to the customer, and the
copies written to the field outbox and mail sink (without a gateway or relay). The job keeps its
work, window, status and the site to within a kilometre, so the day's figures still add up."""

from __future__ import annotations

import asyncio

from switchboard.common.envelope import Envelope
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.privacy import ERASED, corrected_party, erase_files, names_them, report
from switchboard.common.runtime import Transaction
from switchboard.dispatch import messages_store, store
from switchboard.dispatch.settings import DispatchSettings

SERVICE = "dispatch"


async def erase(
    tx: Transaction, event: Envelope[ErasureRequested], settings: DispatchSettings
) -> None:
    asked, session = event.payload, tx.session
    candidates = await store.jobs_of_contacts(
        session, contact_ids=asked.contact_ids, tenant_id=event.tenant_id, with_phone=True
    )
    jobs = [
        j
        for j in candidates
        if j.contact_id in asked.contact_ids or names_them(asked, j.customer_phone)
    ]
    for job in jobs:
        job.customer_name = job.customer_phone = job.site_name = None
        job.special_instructions = job.payment_token = None
        job.address, job.lat, job.lon = ERASED, round(job.lat, 2), round(job.lon, 2)
        session.add(job)
    job_ids = [j.job_id for j in jobs]
    sent = await messages_store.erase_sent(session, job_ids=job_ids)
    notices = await messages_store.erase_notices(session, job_ids=job_ids)
    files = await asyncio.to_thread(
        lambda: sum(
            erase_files(folder, asked, also=tuple(job_ids))
            for folder in (settings.field_outbox, settings.mail_sink)
        )
    )
    await report(
        tx,
        event,
        SERVICE,
        {
            "jobs": len(jobs),
            "sent": sent,
            "customer_notices": notices,
            "files": files,
        },
    )


async def correct(tx: Transaction, event: Envelope[CustomerCorrected]) -> None:
    """The correction on the customer's field jobs (APP 13): the technician's next sheet has it."""
    correction = event.payload
    for job in await store.jobs_of_contacts(tx.session, contact_ids=correction.contact_ids):
        job.customer_name, _, job.customer_phone = corrected_party(
            correction, job.customer_name, None, job.customer_phone
        )
        tx.session.add(job)
