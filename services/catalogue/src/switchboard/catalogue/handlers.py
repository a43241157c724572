"""The catalogue's subscribers: it follows the field jobs its orders asked for."""

from __future__ import annotations

from switchboard.catalogue import privacy, store
from switchboard.common import pacing, topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.dispatch import JobStatusChanged
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Subscriptions

SERVICE = "catalogue"
subscriptions = Subscriptions(
    SERVICE,
    promptness=pacing.UNHURRIED,  # its mirrors are read later
    emits=(
        topics.ORDER_STATUS,
        topics.JOB_REQUESTED,
        topics.KNOWLEDGE_USED,
        topics.RETENTION_OFFERED,
        topics.ERASURE_APPLIED,
    ),
)


@subscriptions.on(topics.CUSTOMER_CORRECTED)
async def on_customer_corrected(event: Envelope[CustomerCorrected], tx: Transaction) -> None:
    await privacy.correct(tx, event)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    await privacy.erase(tx, event)


@subscriptions.on(topics.JOB_STATUS)
async def on_job_status(event: Envelope[JobStatusChanged], tx: Transaction) -> None:
    """An installation's progress shows on its order (other jobs match no order)."""
    await store.job_changed(tx.session, job_id=event.payload.job_id, status=event.payload.status)
