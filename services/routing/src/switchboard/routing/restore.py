"""The ACD rebuilt from the record at start-up, and the conversions between the record's rows
and times and the Engine's (which counts in seconds since the epoch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import utcnow
from switchboard.common.events.routing import OfferReason
from switchboard.routing import store
from switchboard.routing.lines import Waiting
from switchboard.routing.offers import Candidate as EngineCandidate
from switchboard.routing.offers import Offer

if TYPE_CHECKING:  # the distributor loads itself through this module
    from switchboard.routing.distributor import Distributor

log = structlog.get_logger("switchboard.routing.acd")


async def rebuild(acd: Distributor, session: AsyncSession) -> None:
    """Rebuild the Engine from the record: configuration, agents' presence, the lines, the
    contacts agents hold and the offers in flight."""
    clock = now()
    for row in await store.tenants(session):
        acd.configure_tenant(row.tenant_id, row.timezone, row.config)
    for agent_row in await store.agents(session):
        acd.configure_agent(agent_row.agent_id, agent_row.config)
        agent = acd.engine.agents[agent_row.agent_id]
        agent.missed_in_row = agent_row.missed_in_row
        acd.engine.set_presence(
            agent.agent_id, agent_row.presence, reason=agent_row.break_reason, now=clock
        )
    for entry in await store.live_entries(session):
        acd.remember(entry)
        acd.engine.enqueue(waiting_of(entry))
    for entry in await store.assigned_entries(session):
        held = acd.engine.agents.get(entry.agent_id or "")
        if held is not None:
            held.active[entry.contact_id] = entry.channel
            if entry.status == "wrap_up":
                held.wrapping.add(entry.contact_id)
            acd.engine.set_presence(
                held.agent_id, held.presence, reason=held.break_reason, now=clock
            )
    for offer_row in await store.open_offers(session):
        acd.engine.adopt(offer_of(offer_row))
    since = utcnow() - timedelta(minutes=30)
    for entry in await store.outcomes_since(session, since=since):
        if entry.outcome_at is not None and entry.waited_seconds is not None:
            acd.engine.record_outcome(
                (entry.tenant_id, entry.queue_id),
                at=epoch(entry.outcome_at),
                answered=entry.status != "abandoned",
                waited=entry.waited_seconds,
            )
    log.info(
        "acd loaded",
        agents=len(acd.engine.agents),
        waiting=len(acd.engine.waiting),
        offers=len(acd.engine.offers),
    )


def now() -> float:
    return utcnow().timestamp()


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def epoch(moment: datetime) -> float:
    """Seconds since the epoch; the record's times are UTC whether or not the driver says so."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def waiting_of(entry: store.QueueEntry) -> Waiting:
    return Waiting(
        contact_id=entry.contact_id,
        tenant_id=entry.tenant_id,
        queue_id=entry.queue_id,
        channel=entry.channel,
        priority=entry.priority,
        enqueued_at=epoch(entry.enqueued_at),
        rule=entry.rule,
        excluded=dict(entry.excluded),
        not_before=epoch(entry.not_before) if entry.not_before else 0.0,
        reserved_for=entry.reserved_for,
        reserved_until=epoch(entry.reserved_until) if entry.reserved_until else 0.0,
    )


def offer_of(row: store.RoutingOffer) -> Offer:
    reason = OfferReason.model_validate(row.reason)
    return Offer(
        offer_id=row.offer_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        queue=(row.tenant_id, row.queue_id),
        expires_at=epoch(row.expires_at),
        timeout_seconds=int((row.expires_at - row.created_at).total_seconds()),
        rule=reason.rule,
        step=reason.step,
        considered=[EngineCandidate(**c.model_dump()) for c in reason.considered],
        why=reason.why,
    )
