"""Routing's part in voice and in handing contacts on.

- A call assigned to an agent is bridged by the telephony platform: routing emits `call.route` (the
  agent's extension), and a call the platform could not connect goes back in line in its place.
- A caller who asked to be called back keeps their place in line as a callback: offered within the
  tenant's calling hours, dialled from the agent's extension once the Do Not Call gate clears it,
  tried again after a pause when nobody answers, up to the tenant's limit (`callback.result`).
- A transfer (`contact.transfer_requested`) puts the contact back in line, reserved for a named
  agent for a while when one is named; a warm transfer consults the target first, and in a warm
  transfer or conference the first agent keeps the contact until they wrap up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from switchboard.common.compliance.dnc import mask_number
from switchboard.common.envelope import Envelope, Payload, utcnow
from switchboard.common.events.channels import (
    CallbackResult,
    CallCommandResult,
    CallControl,
    CallRoute,
    TransferRequested,
)
from switchboard.common.events.intake import CallbackRequested
from switchboard.common.events.outbound import OutboundCleared, OutboundRequested
from switchboard.common.events.routing import ContactQueued, OfferWithdrawn
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.routing import domain, gate, store
from switchboard.routing.distributor import Distributor, acd_of
from switchboard.routing.restore import epoch, now, waiting_of

log = structlog.get_logger("switchboard.routing.calls")
TRANSFER_EXCLUSION_SECONDS = 3600.0
"""How long a contact an agent handed on stays out of that agent's offers."""


async def emit(
    tx: Transaction, acd: Distributor, entry: store.QueueEntry, payload: Payload
) -> None:
    """An event about the contact, in its chain."""
    acd.remember(entry)
    await acd.emit(tx, entry.contact_id, payload, aggregate_id=entry.contact_id)


async def _queued(
    tx: Transaction,
    acd: Distributor,
    entry: store.QueueEntry,
    reason: str,
    cause: Envelope[Any] | None,
) -> None:
    tenant = acd.tenants.get(entry.tenant_id)
    queue = tenant.queues.get(entry.queue_id) if tenant else None
    queued = ContactQueued(
        queue_id=entry.queue_id,
        priority=entry.priority,
        reason=reason,
        service_level_seconds=queue.service_level_seconds if queue else None,
        channel=entry.channel,
    )
    if cause is None:
        await emit(tx, acd, entry, queued)
        return
    event = cause.follow(queued, aggregate_id=entry.contact_id)
    entry.queued_event_id = event.event_id
    await tx.emit(event)


# -- an assigned call is bridged to its agent ---------------------------------------------------------
async def connect(
    tx: Transaction, acd: Distributor, entry: store.QueueEntry, offer_id: str
) -> None:
    """The agent accepted a call: bridge it (`call.route`), or dial a callback back."""
    if entry.callback_number:
        await dial(tx, acd, entry)
        return
    if entry.channel != domain.VOICE or not entry.call_id or entry.agent_id is None:
        return
    agent = await tx.session.get(store.RoutingAgent, entry.agent_id)
    mode = {"blind": "transfer", "warm": "warm_transfer", "conference": "conference"}.get(
        (entry.transfer or {}).get("mode", ""), "offer"
    )
    route = CallRoute(
        command_id=new_id(),
        call_id=entry.call_id,
        agent_id=entry.agent_id,
        extension=store.extension_of(agent, agent_id=entry.agent_id),
        offer_id=offer_id,
        mode=mode,
    )
    await emit(tx, acd, entry, route)


async def on_command_result(event: Envelope[CallCommandResult], tx: Transaction) -> None:
    acd, result = acd_of(tx), event.payload
    entry = await tx.session.get(store.QueueEntry, event.aggregate_id)
    if entry is None or entry.status != "assigned" or entry.agent_id != result.agent_id:
        return  # the contact has moved on since the command
    if result.command == "route" and result.outcome == "failed":
        await _not_connected(tx, acd, entry, result)
    elif result.command == "dial" and result.call_id == (entry.call_id or entry.contact_id):
        await _dialled(tx, acd, entry, result)  # a callback's dial, not an agent's own call back


async def _not_connected(
    tx: Transaction, acd: Distributor, entry: store.QueueEntry, result: CallCommandResult
) -> None:
    """The platform could not bridge the call to the agent: it goes back in line, in its place,
    and not to that agent for a while."""
    agent_id = entry.agent_id
    assert agent_id is not None
    offer = await store.accepted_offer(tx.session, contact_id=entry.contact_id)
    entry.status, entry.agent_id = "waiting", None
    entry.outcome_at, entry.waited_seconds = None, None
    until = now() + acd.settings.routing_retry_same_agent_after_seconds
    entry.excluded = {**entry.excluded, agent_id: until}
    tx.session.add(entry)
    reason = f"the call could not be connected to {agent_id} ({result.reason or 'no reason'}); "
    await _queued(tx, acd, entry, reason + "back in line in its place", None)
    if offer is not None:
        withdrawn = OfferWithdrawn(
            offer_id=offer.offer_id, agent_id=agent_id, reason="not_connected"
        )
        await acd.emit(tx, entry.contact_id, withdrawn, aggregate_id=agent_id)
    contact_id = entry.contact_id

    def apply() -> None:
        acd.engine.wrapped(contact_id, agent_id, now=now())
        acd.engine.enqueue(waiting_of(entry))

    tx.after_commit(apply)


# -- callbacks -------------------------------------------------------------------------------------
async def on_callback_requested(event: Envelope[CallbackRequested], tx: Transaction) -> None:
    """The caller chose to be called back: the contact keeps its place in line as a callback
    (whether or not their hang-up has been seen yet), offered within calling hours."""
    acd = acd_of(tx)
    entry = await tx.session.get(store.QueueEntry, event.aggregate_id)
    tenant = acd.tenants.get(entry.tenant_id) if entry else None
    if entry is None or tenant is None or entry.callback_number:
        return
    if entry.status in ("assigned", "wrap_up", "wrapped", "not_routed"):
        return  # an agent has the caller already, or routing refused the call
    entry.callback_number = event.payload.callback_number
    local_now = utcnow().astimezone(tenant.timezone)
    opens = domain.next_open(tenant.callbacks.hours, local_now)
    entry.not_before = opens if opens is not None and opens > local_now else None
    revived = entry.status not in store.LIVE
    if revived:
        entry.status, entry.outcome_at, entry.waited_seconds = "waiting", None, None
    tx.session.add(entry)
    reason = f"callback requested on {mask_number(entry.callback_number)}: keeps its place"
    if entry.not_before is not None:
        reason += f"; dialled from {opens:%a %H:%M}"
    await _queued(tx, acd, entry, reason, event)
    contact_id, not_before = entry.contact_id, entry.not_before

    def apply() -> None:
        if revived:
            acd.engine.enqueue(waiting_of(entry))
        elif not_before is not None:
            acd.engine.defer(contact_id, epoch(not_before))

    tx.after_commit(apply)


async def dial(tx: Transaction, acd: Distributor, entry: store.QueueEntry) -> None:
    """The agent took the callback: the gate decides (inline: routing is the gate), then the
    platform dials from the agent's extension."""
    assert entry.callback_number is not None and entry.agent_id is not None
    tenant = acd.tenants.get(entry.tenant_id)
    entry.callback_attempts += 1
    request = OutboundRequested(
        request_id=domain.callback_request_id(entry.contact_id, entry.callback_attempts),
        channel="call",
        number=entry.callback_number,
        purpose="solicited",
        requested_by=f"callback by agent {entry.agent_id}",
        not_before=utcnow(),
        time_zone=str(tenant.timezone) if tenant else None,
    )
    acd.remember(entry)
    asked = acd.resumed(entry.contact_id, request, aggregate_id=request.request_id)
    answer = await gate.decide_outbound(tx.session, asked)
    await tx.emit(asked.follow(answer))
    if not isinstance(answer, OutboundCleared):
        blocked = CallbackResult(
            attempt=entry.callback_attempts,
            outcome="blocked",
            reason=answer.reason,
            agent_id=entry.agent_id,
        )
        await emit(tx, acd, entry, blocked)
        return
    agent = await tx.session.get(store.RoutingAgent, entry.agent_id)
    command = CallControl(
        command_id=new_id(),
        call_id=entry.call_id or entry.contact_id,
        action="dial",
        extension=store.extension_of(agent, agent_id=entry.agent_id),
        target=entry.callback_number,
        requested_by=f"callback by agent {entry.agent_id}",
        agent_id=entry.agent_id,
    )
    await emit(tx, acd, entry, command)


async def _dialled(
    tx: Transaction, acd: Distributor, entry: store.QueueEntry, result: CallCommandResult
) -> None:
    tenant = acd.tenants.get(entry.tenant_id)
    if tenant is None:
        return
    decision = domain.after_dial(
        result.outcome,
        result.reason,
        attempt=entry.callback_attempts,
        max_attempts=tenant.callbacks.max_attempts,
        retry_after=timedelta(minutes=tenant.callbacks.retry_after_minutes),
        hours=tenant.callbacks.hours,
        local_now=utcnow().astimezone(tenant.timezone),
    )
    entry.callback_retry_at = decision.retry_at
    tx.session.add(entry)
    outcome = CallbackResult(
        attempt=entry.callback_attempts,
        outcome=decision.outcome,
        reason=decision.reason,
        agent_id=entry.agent_id,
        next_attempt_at=decision.retry_at,
    )
    await emit(tx, acd, entry, outcome)


async def try_again(tx: Transaction, acd: Distributor, entry: store.QueueEntry) -> None:
    """The agent wrapped up a callback nobody answered: it waits in its place for the next try."""
    retry_at = entry.callback_retry_at
    assert retry_at is not None
    entry.status, entry.agent_id, entry.callback_retry_at = "waiting", None, None
    entry.not_before, entry.outcome_at, entry.waited_seconds = retry_at, None, None
    tx.session.add(entry)
    await _queued(tx, acd, entry, f"callback: tried again from {retry_at:%H:%M} UTC", None)
    tx.after_commit(lambda: acd.engine.enqueue(waiting_of(entry)))


# -- transfers -------------------------------------------------------------------------------------
async def on_transfer_requested(event: Envelope[TransferRequested], tx: Transaction) -> None:
    acd, wanted = acd_of(tx), event.payload
    entry = await tx.session.get(store.QueueEntry, event.aggregate_id)
    if entry is None or entry.agent_id != wanted.from_agent_id:
        log.warning(
            "transfer of a contact the agent does not hold ignored",
            contact_id=event.aggregate_id,
            agent_id=wanted.from_agent_id,
        )
        return
    # The desktop sends a transfer only for a contact its agent holds; their wrap-up, on another
    # topic, may still be applied first (different partitions on Kafka), as for an escalation.
    if entry.status not in ("assigned", "wrap_up", "wrapped"):
        return
    tenant = acd.tenants.get(entry.tenant_id)
    queue_id = wanted.queue_id if tenant and wanted.queue_id in tenant.queues else entry.queue_id
    target = wanted.to_agent_id or f"queue {queue_id}"
    if wanted.mode == "warm" and entry.call_id:
        agent = await tx.session.get(store.RoutingAgent, wanted.from_agent_id)
        target_agent = await tx.session.get(store.RoutingAgent, wanted.to_agent_id or "")
        consult = CallControl(
            command_id=new_id(),
            call_id=entry.call_id,
            action="consult",
            extension=store.extension_of(agent, agent_id=wanted.from_agent_id),
            target=store.extension_of(target_agent, agent_id=wanted.to_agent_id)
            if wanted.to_agent_id
            else queue_id,
            requested_by=wanted.from_agent_id,
            agent_id=wanted.from_agent_id,
        )
        await emit(tx, acd, entry, consult)
    entry.transfer = {
        "transfer_id": wanted.transfer_id,
        "from": wanted.from_agent_id,
        "mode": wanted.mode,
        "to": wanted.to_agent_id,
    }
    if wanted.to_agent_id:
        entry.reserved_for = wanted.to_agent_id
        entry.reserved_until = utcnow() + timedelta(
            seconds=acd.settings.routing_named_transfer_seconds
        )
    reason = f"transferred by {wanted.from_agent_id} to {target} ({wanted.mode})"
    if wanted.reason:
        reason += f": {wanted.reason}"
    await hand_on(
        tx,
        acd,
        entry,
        queue_id=queue_id,
        priority=entry.priority,
        reason=reason,
        by=wanted.from_agent_id,
        keep_holder=wanted.mode != "blind",
        cause=event,
    )


async def hand_on(
    tx: Transaction,
    acd: Distributor,
    entry: store.QueueEntry,
    *,
    queue_id: str,
    priority: int,
    reason: str,
    by: str | None,
    keep_holder: bool,
    cause: Envelope[Any],
) -> None:
    """The contact joins `queue_id` as a new wait, not offered back to `by` for an hour. The agent
    who held it is free at once, unless `keep_holder` (a warm transfer or a conference: they stay
    on until they wrap up)."""
    agent_id, held = entry.agent_id, entry.status != "wrapped"
    entry.queue_id, entry.priority = queue_id, priority
    entry.status, entry.agent_id, entry.enqueued_at = "waiting", None, utcnow()
    entry.excluded = {by: now() + TRANSFER_EXCLUSION_SECONDS} if by else {}
    tx.session.add(entry)
    await _queued(tx, acd, entry, reason, cause)

    def apply() -> None:
        if held and agent_id is not None and not keep_holder:
            acd.engine.wrapped(entry.contact_id, agent_id, now=now())
        acd.remember(entry)
        acd.engine.enqueue(waiting_of(entry))

    tx.after_commit(apply)
