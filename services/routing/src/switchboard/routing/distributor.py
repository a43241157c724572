"""The ACD at run time: the Engine rebuilt from the record at start-up, and one task that makes
offers durable, lapses offers that time out and publishes each queue's statistics.

Handlers change the record in their batch's transaction and apply the same change to the Engine
only once it has committed (`tx.after_commit`), so the Engine never runs ahead of the record. An
offer is in the Engine before its transaction commits; if a handler closed it meanwhile (the agent
went on break), the offer is withdrawn in the record straight after — and every change of status
is a conditional update, so a timeout racing an acceptance has exactly one winner.

Routing runs as one active process per centre (the ACD needs the whole centre's agents in view);
see the README's "Scaling" section.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import setaside
from switchboard.common.centre import QueueConfig, RuleConfig
from switchboard.common.delivery import classify
from switchboard.common.envelope import Envelope, P, Payload, utcnow
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.events.routing import (
    AgentOffered,
    Candidate,
    OfferReason,
    OfferWithdrawn,
    SupervisorAlert,
)
from switchboard.common.origin import Origin
from switchboard.common.promises_config import CallbackConfig
from switchboard.common.runtime import Runtime, Transaction
from switchboard.routing import restore, store
from switchboard.routing.context import Routing
from switchboard.routing.domain import QueueSpec
from switchboard.routing.engine import Engine
from switchboard.routing.metrics import QueueGauges
from switchboard.routing.offers import Offer
from switchboard.routing.restore import at, now
from switchboard.routing.roster import Agent
from switchboard.routing.settings import RoutingSettings

log = structlog.get_logger("switchboard.routing.acd")
UNOFFERABLE = store.UNOFFERABLE


@dataclass
class TenantRouting:
    timezone: ZoneInfo
    queues: dict[str, QueueConfig]
    rules: list[RuleConfig]
    partners: list[str]
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)


class Distributor:
    def __init__(self, runtime: Runtime, settings: RoutingSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.engine = Engine(
            default_timeouts=settings.offer_timeouts,
            missed_offers_limit=settings.routing_missed_offers_limit,
            retry_same_agent_after=settings.routing_retry_same_agent_after_seconds,
        )
        self.tenants: dict[str, TenantRouting] = {}
        self.origins: dict[str, Origin] = {}
        self._wake = asyncio.Event()
        self._tracer = runtime.tracer_provider.get_tracer("switchboard.routing")
        self._next_stats = 0.0
        self._gauges = QueueGauges(runtime.metrics)

    # -- life ----------------------------------------------------------------------------------
    async def load(self) -> None:
        """Rebuild the Engine from the record (`restore.rebuild`)."""
        async with self.runtime.db.reader() as session:
            await restore.rebuild(self, session)

    def wake(self) -> None:
        self._wake.set()

    # -- configuration -------------------------------------------------------------------------
    def configure_tenant(self, tenant_id: str, timezone: str, config: dict[str, Any]) -> None:
        queues = [QueueConfig.model_validate(q) for q in config.get("queues", [])]
        self.tenants[tenant_id] = TenantRouting(
            timezone=ZoneInfo(timezone),
            queues={q.id: q for q in queues},
            rules=[RuleConfig.model_validate(r) for r in config.get("rules", [])],
            partners=list(config.get("overflow_partners", [])),
            callbacks=CallbackConfig.model_validate(config.get("callbacks", {})),
        )
        self.engine.set_partners(tenant_id, config.get("overflow_partners", []))
        for queue in queues:
            self.engine.set_queue(QueueSpec.from_config(tenant_id, queue))

    def configure_agent(self, agent_id: str, config: dict[str, Any]) -> None:
        self.engine.set_agent(
            agent_id,
            tenants=config["tenants"],
            skills=config.get("skills", {}),
            capacity=config.get("capacity", {}),
            groups=config.get("groups", []),
        )

    async def known_tenant(self, session: AsyncSession, tenant_id: str) -> TenantRouting | None:
        """The tenant's routing, taken up from the record the first time it is needed: a tenant
        onboarded while routing runs (`switchboard tenant add`) routes at once, no restart."""
        if tenant_id not in self.tenants:
            row = await store.tenant(session, tenant_id=tenant_id)
            if row is None:
                return None
            self.configure_tenant(row.tenant_id, row.timezone, row.config)
            log.info("tenant taken up", tenant_id=tenant_id)
        return self.tenants[tenant_id]

    def known_agent(self, row: store.RoutingAgent) -> None:
        """An agent added to the record while routing runs joins the roster on their first
        change of state."""
        if row.agent_id not in self.engine.agents:
            self.configure_agent(row.agent_id, row.config)
            log.info("agent taken up", agent_id=row.agent_id)

    def remember(self, entry: store.QueueEntry) -> None:
        self.origins[entry.contact_id] = Origin(
            entry.tenant_id,
            entry.contact_id,
            entry.correlation_id,
            entry.queued_event_id,
            entry.trace_parent,
        )

    # -- the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        """The distributor's loop, for the life of the process."""
        while True:
            try:
                await self.step()
            except Exception as error:  # the database or broker is away: try again shortly
                log.warning("acd step failed; retrying", error=repr(error))
                await asyncio.sleep(1.0)
            await self._sleep()

    async def _sleep(self) -> None:
        due = min(filter(None, [self.engine.next_due(), self._next_stats]), default=now() + 1)
        delay = min(max(due - now(), 0.0), 1.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    async def step(self) -> None:
        clock = now()
        lapsed = self.engine.expired(clock)
        if lapsed:
            await self._lapse(lapsed, clock)
        offers = self.engine.decide(clock)
        if offers:
            await self._make_durable(offers, clock)
        if clock >= self._next_stats:
            await self._publish_stats(clock)
            self._next_stats = clock + self.settings.routing_stats_interval_seconds

    async def _make_durable(self, offers: list[Offer], clock: float) -> None:
        made: list[Offer] = []
        try:
            async with self.runtime.transaction() as tx:
                for offer in offers:
                    if await self._record_offer(tx, offer):
                        made.append(offer)
        except Exception as error:
            if classify(error) == "transient":
                self.engine.release(offers, now=clock)
                raise
            made = await self._one_by_one(offers, clock)
        self.engine.release([o for o in offers if o not in made], now=clock)
        closed = [o for o in made if o.offer_id not in self.engine.offers]
        if closed:  # closed by a handler while we wrote: withdraw them in the record too
            async with self.runtime.transaction() as tx:
                for offer in closed:
                    await self.withdraw_offer(tx, offer.offer_id, "agent_unavailable")

    async def _one_by_one(self, offers: list[Offer], clock: float) -> list[Offer]:
        """After a batch of offers failed (not for the database's sake), each in a transaction of
        its own. The contact of an offer that cannot be recorded leaves the line and is set aside
        with the reason (routing takes it back into the line when it next starts, once `switchboard
        dlq put-back` has returned it): one contact cannot stop every other contact's offers."""
        made: list[Offer] = []
        for offer in offers:
            try:
                async with self.runtime.transaction() as tx:
                    if await self._record_offer(tx, offer):
                        made.append(offer)
            except Exception as error:
                if classify(error) == "transient":
                    self.engine.release([o for o in offers if o not in made], now=clock)
                    raise
                self.engine.release([offer], now=clock)
                self.engine.withdraw(offer.contact_id, now=clock, abandoned=False)
                async with self.runtime.db.session() as session:
                    await setaside.set_aside(
                        session,
                        service="routing",
                        loop=UNOFFERABLE,
                        ref=offer.contact_id,
                        error=error,
                    )
                setaside.counter(self.runtime.metrics).labels(loop=UNOFFERABLE).inc()
        return made

    async def _record_offer(self, tx: Transaction, offer: Offer) -> bool:
        origin = self.origins.get(offer.contact_id)
        moved = await store.transition(
            tx.session,
            model=store.QueueEntry,
            key=offer.contact_id,
            from_=("waiting",),
            to="offered",
            agent_id=offer.agent_id,
        )
        if origin is None or not moved:
            return False
        contact = self.engine.waiting[offer.contact_id]
        reason = OfferReason(
            queue_id=f"{offer.queue[0]}/{offer.queue[1]}",
            rule=offer.rule,
            step=offer.step,
            considered=[Candidate(**vars(c)) for c in offer.considered],
            why=offer.why,
        )
        tx.session.add(
            store.RoutingOffer(
                offer_id=offer.offer_id,
                contact_id=offer.contact_id,
                agent_id=offer.agent_id,
                tenant_id=offer.queue[0],
                queue_id=offer.queue[1],
                expires_at=at(offer.expires_at),
                reason=reason.model_dump(mode="json"),
            )
        )
        payload = AgentOffered(
            offer_id=offer.offer_id,
            agent_id=offer.agent_id,
            queue_id=offer.queue[1],
            channel=contact.channel,
            priority=contact.priority,
            expires_at=at(offer.expires_at),
            timeout_seconds=offer.timeout_seconds,
            reason=reason,
        )
        with origin.span(self._tracer, "contact.offer"):
            await self.emit(tx, offer.contact_id, payload, aggregate_id=offer.agent_id)
        log.info("offered", contact_id=offer.contact_id, agent_id=offer.agent_id, why=offer.why)
        return True

    async def _lapse(self, offers: list[Offer], clock: float) -> None:
        lapsed: list[Offer] = []
        async with self.runtime.transaction() as tx:
            missed: dict[str, int] = {}
            for offer in offers:
                if not await self.withdraw_offer(tx, offer.offer_id, "timed_out", exclude=True):
                    continue
                lapsed.append(offer)
                agent = self.engine.agents[offer.agent_id]
                missed[agent.agent_id] = missed.get(agent.agent_id, agent.missed_in_row) + 1
                await self._count_missed(tx, agent, missed[agent.agent_id], offer)

            def apply() -> None:
                for offer in lapsed:
                    self.engine.time_out(offer.offer_id, now=clock)

            tx.after_commit(apply)

    async def _count_missed(self, tx: Transaction, agent: Agent, missed: int, offer: Offer) -> None:
        row = await tx.session.get(store.RoutingAgent, agent.agent_id)
        if row is None:
            return
        row.missed_in_row = missed
        if missed >= self.engine.missed_offers_limit and row.presence == "available":
            row.presence, row.break_reason, row.state_since = "break", "missed offers", utcnow()
            tenant = offer.queue[0]
            state = AgentStateChanged(
                agent_id=agent.agent_id, state="break", reason="missed offers", source="routing"
            )
            alert = SupervisorAlert(
                kind="missed_offers",
                agent_id=agent.agent_id,
                message=f"{agent.agent_id} let {missed} offers in a row time out: put on break",
            )
            await tx.emit(Envelope.first(state, tenant_id=tenant, aggregate_id=agent.agent_id))
            await tx.emit(Envelope.first(alert, tenant_id=tenant, aggregate_id=tenant))
            log.warning("agent put on break", agent_id=agent.agent_id, missed=missed)
        tx.session.add(row)

    async def withdraw_offer(
        self, tx: Transaction, offer_id: str, reason: str, *, exclude: bool = False
    ) -> bool:
        """Close an open offer in the record (the contact waits again) and tell the agent."""
        offer = await tx.session.get(store.RoutingOffer, offer_id)
        if offer is None or not await store.transition(
            tx.session,
            model=store.RoutingOffer,
            key=offer_id,
            from_=("offered",),
            to=reason if reason in ("timed_out", "declined") else "withdrawn",
        ):
            return False
        entry = await tx.session.get(store.QueueEntry, offer.contact_id)
        if entry is not None and entry.status == "offered":
            entry.status, entry.agent_id = "waiting", None
            if exclude:
                until = now() + self.settings.routing_retry_same_agent_after_seconds
                entry.excluded = {**entry.excluded, offer.agent_id: until}
            tx.session.add(entry)
        payload = OfferWithdrawn(offer_id=offer_id, agent_id=offer.agent_id, reason=reason)
        await self.emit(tx, offer.contact_id, payload, aggregate_id=offer.agent_id)
        return True

    async def emit(
        self, tx: Transaction, contact_id: str, payload: Payload, *, aggregate_id: str
    ) -> None:
        await tx.emit(self.resumed(contact_id, payload, aggregate_id=aggregate_id))

    def resumed(self, contact_id: str, payload: P, *, aggregate_id: str) -> Envelope[P]:
        """An event about the contact in its chain, caused by its `contact.queued`."""
        return self.origins[contact_id].event(payload, aggregate_id=aggregate_id)

    async def _publish_stats(self, clock: float) -> None:
        figures = self.engine.figures(clock)
        self._gauges.update(figures)
        if not figures:
            return
        async with self.runtime.transaction() as tx:
            for tenant, payload in figures:
                event = Envelope.first(
                    payload, tenant_id=tenant, aggregate_id=f"{tenant}/{payload.queue_id}"
                )
                await tx.emit(event)


def acd_of(tx: Transaction) -> Distributor:
    """The ACD a handler works on, woken once the handler's transaction commits."""
    distributor = Routing.of(tx).acd
    tx.after_commit(distributor.wake)
    return distributor
