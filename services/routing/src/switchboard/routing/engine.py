"""The ACD's working state and its decisions: which ready agent a contact goes to, which waiting
contact an agent who comes free takes, and what an answer, a lapse or a step away changes.

Pure and synchronous (time is passed in), so every decision is unit-testable without a broker or a
database. The database is the record; the distributor rebuilds an Engine from it at start-up and
applies each committed change to it. Its parts: the queues as configured (`queues`), the agents
and who is ready (`roster`), the contacts in line and their timers (`lines`), the queues' recent
outcomes (`statistics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from switchboard.common.events.routing import QueueStatistics
from switchboard.routing.domain import QueueKey, QueueSpec, Requirement
from switchboard.routing.lines import Lines, Waiting
from switchboard.routing.offers import DEFAULT_TIMEOUTS, NAMED, Assignment, Offer
from switchboard.routing.queues import Queues
from switchboard.routing.roster import RUNNERS_UP, Agent, Roster
from switchboard.routing.statistics import Outcomes, queue_statistics


class Engine:
    def __init__(
        self,
        *,
        default_timeouts: Mapping[str, int] = DEFAULT_TIMEOUTS,
        missed_offers_limit: int = 3,
        retry_same_agent_after: float = 60.0,
        partners: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.missed_offers_limit = missed_offers_limit
        self.retry_same_agent_after = retry_same_agent_after
        self.plan = Queues(default_timeouts=default_timeouts, partners=partners)
        self.queues = self.plan.specs
        self.roster = Roster()
        self.lines = Lines()
        self.outcomes = Outcomes()
        self.agents = self.roster.agents
        self.waiting = self.lines.waiting
        self.offers: dict[str, Offer] = {}

    # -- configuration -------------------------------------------------------------------------
    def set_queue(self, queue: QueueSpec) -> None:
        self.plan.put(queue)
        self.roster.dirty.update(dict.fromkeys(self.agents))

    def set_agent(
        self,
        agent_id: str,
        *,
        tenants: Iterable[str],
        skills: Mapping[str, int],
        capacity: Mapping[str, int],
        groups: Iterable[str] = (),
    ) -> Agent:
        agent = self.agents.get(agent_id) or Agent(agent_id, frozenset(), {}, {})
        agent.tenants, agent.skills = frozenset(tenants), dict(skills)
        agent.capacity, agent.groups = dict(capacity), frozenset(groups)
        self.agents[agent_id] = agent
        self.plan.agent_changed(agent_id)
        self.roster.reindex(agent, now=agent.ready_since)
        return agent

    def set_partners(self, tenant_id: str, partners: Iterable[str]) -> None:
        self.plan.set_partners(tenant_id, partners)

    # -- contacts ------------------------------------------------------------------------------
    def enqueue(self, contact: Waiting) -> None:
        """Put a contact in line (idempotent: a contact already in line keeps its place)."""
        if contact.contact_id not in self.waiting:
            self.lines.join(contact, self.queues.get(contact.home))

    def defer(self, contact_id: str, not_before: float) -> None:
        """Not offered before `not_before` (a callback outside calling hours); keeps its place."""
        contact = self.waiting.get(contact_id)
        if contact is not None:
            contact.not_before = not_before
            self.lines.timer(not_before, contact, "retry")

    def hold(self, contact_id: str, agent_id: str, channel: str, *, now: float) -> None:
        """The agent has the contact without an offer (a walk-in they logged themselves)."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.active[contact_id] = channel
            self.roster.reindex(agent, now=now)

    def waiting_count(self, queue: QueueKey) -> int:
        return self.lines.count(queue)

    def withdraw(self, contact_id: str, *, now: float, abandoned: bool) -> Offer | None:
        """The contact leaves the line (the caller hung up); returns the offer this cancels."""
        contact = self.waiting.get(contact_id)
        if contact is None:
            return None
        offer = self._cancel_offer_of(contact, now)
        self.lines.leave(contact)
        if abandoned:
            waited = now - contact.enqueued_at
            self.outcomes.record(contact.home, at=now, answered=False, waited=waited)
        return offer

    def escalate(
        self, contact_id: str, *, priority: int | None, queue_id: str | None, now: float
    ) -> Offer | None:
        """Re-queue with a new priority or queue, keeping the contact's place in time; an offer in
        flight is withdrawn so the new terms apply. Returns that offer."""
        contact = self.waiting.get(contact_id)
        if contact is None:
            return None
        offer = self._cancel_offer_of(contact, now)
        queue = self.queues.get((contact.tenant_id, queue_id)) if queue_id else None
        self.lines.move(contact, queue_id=queue_id, queue=queue, priority=priority)
        return offer

    # -- agents --------------------------------------------------------------------------------
    def set_presence(
        self, agent_id: str, presence: str, *, reason: str | None, now: float
    ) -> Offer | None:
        """Returns the offer withdrawn because the agent stepped away."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return None
        offer = None
        if presence != "available" and agent.offer_id is not None:
            offer = self.offers[agent.offer_id]
            self._close_offer(offer, now=now)
            self.lines.line_up(self.waiting[offer.contact_id])
        agent.presence, agent.break_reason = presence, reason if presence == "break" else None
        if presence == "available":
            agent.missed_in_row = 0
        self.roster.reindex(agent, now=now)
        return offer

    def call_ended(self, contact_id: str, agent_id: str, *, now: float) -> None:
        """After a call the agent is in wrap-up for it until they wrap it."""
        agent = self.agents.get(agent_id)
        if agent is not None and contact_id in agent.active:
            agent.wrapping.add(contact_id)
            self.roster.reindex(agent, now=now)

    def wrapped(self, contact_id: str, agent_id: str, *, now: float) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.active.pop(contact_id, None)
        agent.wrapping.discard(contact_id)
        self.roster.reindex(agent, now=now)

    # -- offers --------------------------------------------------------------------------------
    def decide(self, now: float) -> list[Offer]:
        """Every offer that can be made now: contacts whose requirements just relaxed or who just
        arrived look for the best ready agent; agents who just became ready look for the
        highest-priority, longest-waiting contact they qualify for."""
        self._fire_timers(now)
        offers: list[Offer] = []
        contacts = [self.waiting[c] for c in self.lines.dirty if c in self.waiting]
        self.lines.dirty.clear()
        for contact in sorted(contacts, key=lambda c: (-c.priority, c.enqueued_at)):
            if contact.offer_id is None:
                offer = self._offer_to_best_agent(contact, now)
                if offer is not None:
                    offers.append(offer)
        dirty = self.roster.dirty
        while dirty:
            agent_id = next(iter(dirty))
            del dirty[agent_id]
            agent = self.agents.get(agent_id)
            if agent is not None and agent.ready:
                offer = self._offer_reserved(agent, now) or self._offer_best_contact(agent, now)
                if offer is not None:
                    offers.append(offer)
        return offers

    def next_due(self) -> float | None:
        """When the earliest offer expires or routing step falls due (for the distributor's sleep)."""
        times = [o.expires_at for o in self.offers.values()]
        timer = self.lines.next_timer()
        if timer is not None:
            times.append(timer)
        return min(times, default=None)

    def expired(self, now: float) -> list[Offer]:
        return [o for o in self.offers.values() if o.expires_at <= now]

    def accept(self, offer_id: str, *, now: float) -> Assignment | None:
        offer = self.offers.get(offer_id)
        if offer is None:
            return None
        contact = self.waiting[offer.contact_id]
        agent = self.agents[offer.agent_id]
        self._close_offer(offer, now=now, requeue_agent=False)
        self.lines.leave(contact)
        agent.active[contact.contact_id] = contact.channel
        agent.missed_in_row = 0
        self.roster.reindex(agent, now=now)
        waited = now - contact.enqueued_at
        self.outcomes.record(contact.home, at=now, answered=True, waited=waited)
        return Assignment(contact, agent.agent_id, offer.queue, waited)

    def decline(self, offer_id: str, *, now: float) -> Offer | None:
        offer = self.offers.get(offer_id)
        if offer is None:
            return None
        self._return(offer, now=now)
        self.agents[offer.agent_id].missed_in_row = 0
        return offer

    def time_out(self, offer_id: str, *, now: float) -> bool:
        """The offer lapsed: the contact goes to the next agent. True when this was the agent's
        limit of missed offers in a row and they have been put on break."""
        offer = self.offers.get(offer_id)
        if offer is None:
            return False
        self._return(offer, now=now)
        agent = self.agents[offer.agent_id]
        agent.missed_in_row += 1
        if agent.missed_in_row >= self.missed_offers_limit and agent.presence == "available":
            self.set_presence(agent.agent_id, "break", reason="missed offers", now=now)
            return True
        return False

    def release(self, offers: Iterable[Offer], *, now: float) -> None:
        """Undo offers that could not be made durable: everyone is as they were before."""
        for offer in offers:
            if offer.offer_id in self.offers:
                self._close_offer(offer, now=now)
                if offer.contact_id in self.waiting:
                    self.lines.line_up(self.waiting[offer.contact_id])

    def adopt(self, offer: Offer) -> None:
        """Take back an offer in flight from the record (at start-up)."""
        contact, agent = self.waiting.get(offer.contact_id), self.agents.get(offer.agent_id)
        if contact is None or agent is None:
            return
        self.offers[offer.offer_id] = offer
        contact.offer_id, agent.offer_id = offer.offer_id, offer.offer_id
        contact.version += 1
        self.roster.unindex(agent)

    # -- statistics ----------------------------------------------------------------------------
    def figures(self, now: float) -> list[tuple[str, QueueStatistics]]:
        """Each queue's statistics now, with its tenant."""
        staffed: dict[QueueKey, list[int]] = {q: [0, 0] for q in self.queues}
        for agent in self.agents.values():
            if agent.state in ("available", "on_contact"):
                for queue, _level in self.plan.of_agent(agent):
                    staffed[queue][0 if agent.state == "available" else 1] += 1
        return queue_statistics(self.queues, self.lines, self.outcomes, staffed, now)

    def record_outcome(self, queue: QueueKey, *, at: float, answered: bool, waited: float) -> None:
        """Replay a past outcome (at start-up) into the statistics window."""
        self.outcomes.record(queue, at=at, answered=answered, waited=waited)

    # -- matching ------------------------------------------------------------------------------
    def _offer_reserved(self, agent: Agent, now: float) -> Offer | None:
        """A contact transferred to this agent by name goes to them before anything in line."""
        reserved = self.lines.reservations.get(agent.agent_id, set())
        for contact_id in sorted(reserved):
            contact = self.waiting.get(contact_id)
            if contact is None or contact.reserved_for != agent.agent_id:
                reserved.discard(contact_id)
                continue
            if contact.offer_id is None and now < contact.reserved_until:
                offer = self._offer_to_named(contact, agent, now)
                if offer is not None:
                    return offer
        return None

    def _offer_to_named(self, contact: Waiting, agent: Agent, now: float) -> Offer | None:
        if not agent.ready or not agent.spare(contact.channel) or contact.not_before > now:
            return None
        if contact.tenant_id not in agent.tenants:
            return None
        need = Requirement(skills={}, groups=frozenset(), step=NAMED)
        return self._make_offer(contact, contact.home, need, [agent], now)

    def _offer_to_best_agent(self, contact: Waiting, now: float) -> Offer | None:
        if contact.not_before > now:
            return None
        if contact.reserved_for is not None and now < contact.reserved_until:
            named = self.agents.get(contact.reserved_for)
            return self._offer_to_named(contact, named, now) if named else None
        waited = now - contact.enqueued_at
        found: list[tuple[Agent, QueueKey, Requirement]] = []
        for key in self.lines.memberships[contact.contact_id]:
            if key not in self.queues or not self.plan.may_serve(contact, key):
                continue
            need = self.plan.requirement(key, waited)
            found.extend((a, key, need) for a in self.roster.ready_for(key[0], contact, need, now))
        if not found:
            return None

        def rank(item: tuple[Agent, QueueKey, Requirement]) -> tuple[int, float]:
            agent, _key, need = item
            return (-agent.proficiency(need.primary), agent.ready_since)

        found.sort(key=rank)
        _first, key, need = found[0]
        return self._make_offer(contact, key, need, [a for a, _, _ in found], now)

    def _offer_best_contact(self, agent: Agent, now: float) -> Offer | None:
        best: tuple[int, float, Waiting, QueueKey] | None = None
        for key, level in self.plan.of_agent(agent):
            threshold = self.queues[key].threshold(level)
            for channel in agent.channels_with_room():
                for priority, line in self.lines.by_priority(key, channel).items():
                    if best is not None and priority < best[0]:
                        continue
                    contact = self.lines.head(line, key, agent.agent_id, now)
                    if contact is None or now - contact.enqueued_at < threshold:
                        continue
                    if not self.plan.may_serve(contact, key):
                        continue
                    candidate = (priority, contact.enqueued_at, contact, key)
                    if best is None or (-priority, contact.enqueued_at) < (-best[0], best[1]):
                        best = candidate
        if best is None:
            return None
        _priority, _at, contact, key = best
        need = self.plan.requirement(key, now - contact.enqueued_at)
        others = self.roster.ready_for(key[0], contact, need, now)
        considered = [agent, *[a for a in others if a is not agent]][: RUNNERS_UP + 1]
        return self._make_offer(contact, key, need, considered, now)

    def _make_offer(
        self, contact: Waiting, key: QueueKey, need: Requirement, ranked: list[Agent], now: float
    ) -> Offer:
        """Offer `contact` to the first of the `ranked` agents (the others were weighed)."""
        timeout = self.plan.offer_timeout(key, contact.channel)
        offer = Offer.of(contact, key, need, ranked, now=now, timeout=timeout)
        agent = ranked[0]
        self.offers[offer.offer_id] = offer
        contact.offer_id = offer.offer_id
        contact.version += 1
        agent.offer_id = offer.offer_id
        self.roster.unindex(agent)
        return offer

    # -- bookkeeping ---------------------------------------------------------------------------
    def _close_offer(self, offer: Offer, *, now: float, requeue_agent: bool = True) -> None:
        self.offers.pop(offer.offer_id, None)
        contact = self.waiting.get(offer.contact_id)
        if contact is not None and contact.offer_id == offer.offer_id:
            contact.offer_id = None
        agent = self.agents.get(offer.agent_id)
        if agent is not None and agent.offer_id == offer.offer_id:
            agent.offer_id = None
            if requeue_agent:
                self.roster.reindex(agent, now=now)

    def _cancel_offer_of(self, contact: Waiting, now: float) -> Offer | None:
        offer = self.offers.get(contact.offer_id) if contact.offer_id else None
        if offer is not None:
            self._close_offer(offer, now=now)
        return offer

    def _return(self, offer: Offer, *, now: float) -> None:
        """Declined or lapsed: the contact goes back to its place and to other agents (a contact
        transferred to this agent by name too); this agent is passed over for a while (if nobody
        else can take it, it comes back to them then)."""
        self._close_offer(offer, now=now)
        contact = self.waiting.get(offer.contact_id)
        if contact is not None:
            if contact.reserved_for == offer.agent_id:  # the named agent said no: anyone now
                contact.reserved_for = None
            until = now + self.retry_same_agent_after
            contact.excluded[offer.agent_id] = until
            self.lines.timer(until, contact, "retry")
            self.lines.line_up(contact)

    def _fire_timers(self, now: float) -> None:
        for contact, kind in self.lines.due(now):
            if kind == "overflow":
                self._overflow(contact)
            elif contact.offer_id is None:
                self.lines.dirty.add(contact.contact_id)

    def _overflow(self, contact: Waiting) -> None:
        targets = self.plan.overflow_targets(contact)
        if targets is not None:
            self.lines.widen(contact, targets)
