"""The ACD's working state: agents, the contacts in line and the offers in flight, indexed so that
a decision looks at the few agents or queue heads that could matter, never at everyone.

Pure and synchronous (time is passed in), so every decision is unit-testable without a broker or a
database. The database is the record; the distributor rebuilds an Engine from it at start-up and
applies each committed change to it.

Indexes:
- ready agents by (tenant, channel, skill, proficiency), by (tenant, channel, group) and by
  (tenant, channel); each an insertion-ordered dict, so the first entry is the agent who has been
  ready the longest;
- waiting contacts by (queue, channel, priority) in heaps ordered by the time they joined the line;
  an entry is stale (skipped and dropped) once its contact's `version` has moved on.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from switchboard.common.events.routing import QueueStatistics
from switchboard.common.ids import new_id
from switchboard.routing.domain import (
    VOICE,
    QueueKey,
    QueueSpec,
    Requirement,
    lowest_level,
    qualifies,
)

DEFAULT_TIMEOUTS = {
    "phone": 15,
    "email": 60,
    "letter": 60,
    "fax": 60,
    "chat": 20,
    "sms": 60,
    "walk_in": 15,
}
STATS_WINDOW = 30 * 60.0
RUNNERS_UP = 4
NAMED = "transfer to a named agent"
WHOLE_ATTENTION = frozenset({VOICE, "walk_in"})
"""A call or a customer at the counter has the agent's whole attention: nothing else is offered."""
HEAD_SCAN = 32
"""How far past a queue head to look for a contact an agent has not already declined."""


@dataclass(eq=False)
class Agent:
    agent_id: str
    tenants: frozenset[str]
    skills: Mapping[str, int]
    capacity: Mapping[str, int]
    groups: frozenset[str] = frozenset()
    presence: str = "offline"
    break_reason: str | None = None
    active: dict[str, str] = field(default_factory=dict)
    """contact_id → channel, for contacts assigned and not yet wrapped."""
    wrapping: set[str] = field(default_factory=set)
    offer_id: str | None = None
    ready_since: float = 0.0
    missed_in_row: int = 0
    index_keys: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.presence != "available":
            return self.presence
        if self.wrapping:
            return "wrap_up"
        return "on_contact" if self.active else "available"

    def spare(self, channel: str) -> bool:
        """Room for one more contact on `channel`; none for anything else during a call or a
        customer at the counter."""
        if any(c in WHOLE_ATTENTION and c != channel for c in self.active.values()):
            return False
        busy = sum(1 for c in self.active.values() if c == channel)
        return self.capacity.get(channel, 0) > busy

    @property
    def ready(self) -> bool:
        return self.presence == "available" and not self.wrapping and self.offer_id is None

    def proficiency(self, skill: str | None) -> int:
        return self.skills.get(skill, 0) if skill else 0


@dataclass(eq=False)
class Waiting:
    contact_id: str
    tenant_id: str
    queue_id: str
    channel: str
    priority: int
    enqueued_at: float
    rule: str = "default"
    excluded: dict[str, float] = field(default_factory=dict)
    """Agents who declined or let an offer lapse → until when they are passed over."""
    offer_id: str | None = None
    overflowed: bool = False
    version: int = 0
    not_before: float = 0.0
    """Not offered before this (a callback outside calling hours, or waiting to be tried again)."""
    reserved_for: str | None = None
    """Transferred to this agent: offered only to them until `reserved_until`, then to anyone."""
    reserved_until: float = 0.0

    def reserved_elsewhere(self, agent_id: str, now: float) -> bool:
        return self.reserved_for not in (None, agent_id) and now < self.reserved_until

    @property
    def home(self) -> QueueKey:
        return (self.tenant_id, self.queue_id)


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    proficiency: int
    idle_seconds: float


@dataclass(eq=False)
class Offer:
    offer_id: str
    contact_id: str
    agent_id: str
    queue: QueueKey
    expires_at: float
    timeout_seconds: int
    rule: str
    step: str
    considered: list[Candidate]
    why: str


@dataclass(frozen=True)
class Assignment:
    contact: Waiting
    agent_id: str
    queue: QueueKey
    waited_seconds: float


@dataclass
class _Outcome:
    at: float
    answered: bool
    waited: float


class Engine:
    def __init__(
        self,
        *,
        default_timeouts: Mapping[str, int] = DEFAULT_TIMEOUTS,
        missed_offers_limit: int = 3,
        retry_same_agent_after: float = 60.0,
        partners: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.default_timeouts = dict(default_timeouts)
        self.missed_offers_limit = missed_offers_limit
        self.retry_same_agent_after = retry_same_agent_after
        self.partners = {t: set(p) for t, p in (partners or {}).items()}
        """tenant → tenants whose overflow its agents may take."""
        self.queues: dict[QueueKey, QueueSpec] = {}
        self.agents: dict[str, Agent] = {}
        self.waiting: dict[str, Waiting] = {}
        self.offers: dict[str, Offer] = {}
        self._requirements: dict[QueueKey, list[Requirement]] = {}
        self._queues_of_tenant: dict[str, set[QueueKey]] = {}
        self._agent_queues: dict[str, list[tuple[QueueKey, int]]] = {}
        self._lines: dict[tuple[QueueKey, str], dict[int, list[tuple[float, int, str, int]]]] = {}
        self._memberships: dict[str, set[QueueKey]] = {}
        self._ready: dict[tuple[str, ...], dict[str, None]] = {}
        self._timers: list[tuple[float, int, str, int, str]] = []
        self._dirty_contacts: set[str] = set()
        self._dirty_agents: dict[str, None] = {}
        self._outcomes: dict[QueueKey, deque[_Outcome]] = {}
        self._waiting_in: dict[QueueKey, int] = {}
        self._seq = itertools.count()
        self._reservations: dict[str, set[str]] = {}
        """agent → contacts transferred to them by name, waiting for them."""

    # -- configuration -------------------------------------------------------------------------
    def set_queue(self, queue: QueueSpec) -> None:
        self.queues[queue.key] = queue
        self._requirements[queue.key] = [
            queue.requirement(level) for level in range(len(queue.steps) + 1)
        ]
        self._queues_of_tenant.setdefault(queue.tenant_id, set()).add(queue.key)
        self._agent_queues.clear()
        self._dirty_agents.update(dict.fromkeys(a.agent_id for a in self.agents.values()))

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
        self._agent_queues.pop(agent_id, None)
        self._reindex(agent, now=agent.ready_since)
        return agent

    def set_partners(self, tenant_id: str, partners: Iterable[str]) -> None:
        self.partners[tenant_id] = set(partners)

    # -- contacts ------------------------------------------------------------------------------
    def enqueue(self, contact: Waiting) -> None:
        """Put a contact in line (idempotent: a contact already in line keeps its place)."""
        if contact.contact_id in self.waiting:
            return
        self.waiting[contact.contact_id] = contact
        self._memberships[contact.contact_id] = {contact.home}
        self._waiting_in[contact.home] = self._waiting_in.get(contact.home, 0) + 1
        self._schedule(contact)
        if contact.not_before:
            self._timer(contact.not_before, contact, "retry")
        if contact.reserved_for is not None:
            self._reservations.setdefault(contact.reserved_for, set()).add(contact.contact_id)
            self._timer(contact.reserved_until, contact, "retry")
        if contact.offer_id is None:
            self._line_up(contact)

    def defer(self, contact_id: str, not_before: float) -> None:
        """Not offered before `not_before` (a callback outside calling hours); keeps its place."""
        contact = self.waiting.get(contact_id)
        if contact is not None:
            contact.not_before = not_before
            self._timer(not_before, contact, "retry")

    def hold(self, contact_id: str, agent_id: str, channel: str, *, now: float) -> None:
        """The agent has the contact without an offer (a walk-in they logged themselves)."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.active[contact_id] = channel
            self._reindex(agent, now=now)

    def waiting_count(self, queue: QueueKey) -> int:
        return self._waiting_in.get(queue, 0)

    def withdraw(self, contact_id: str, *, now: float, abandoned: bool) -> Offer | None:
        """The contact leaves the line (the caller hung up); returns the offer this cancels."""
        contact = self.waiting.get(contact_id)
        if contact is None:
            return None
        offer = self._cancel_offer_of(contact, now)
        self._leave(contact)
        if abandoned:
            self._outcome(contact.home, now, answered=False, waited=now - contact.enqueued_at)
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
        self._waiting_in[contact.home] -= 1
        if queue_id is not None and (contact.tenant_id, queue_id) in self.queues:
            contact.queue_id = queue_id
            self._memberships[contact_id] = {contact.home}
            self._schedule(contact)
        if priority is not None:
            contact.priority = priority
        self._waiting_in[contact.home] = self._waiting_in.get(contact.home, 0) + 1
        contact.offer_id = None
        self._line_up(contact)
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
            self._line_up(self.waiting[offer.contact_id])
        agent.presence, agent.break_reason = presence, reason if presence == "break" else None
        if presence == "available":
            agent.missed_in_row = 0
        self._reindex(agent, now=now)
        return offer

    def call_ended(self, contact_id: str, agent_id: str, *, now: float) -> None:
        """After a call the agent is in wrap-up for it until they wrap it."""
        agent = self.agents.get(agent_id)
        if agent is not None and contact_id in agent.active:
            agent.wrapping.add(contact_id)
            self._reindex(agent, now=now)

    def wrapped(self, contact_id: str, agent_id: str, *, now: float) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.active.pop(contact_id, None)
        agent.wrapping.discard(contact_id)
        self._reindex(agent, now=now)

    # -- offers --------------------------------------------------------------------------------
    def decide(self, now: float) -> list[Offer]:
        """Every offer that can be made now: contacts whose requirements just relaxed or who just
        arrived look for the best ready agent; agents who just became ready look for the
        highest-priority, longest-waiting contact they qualify for."""
        self._fire_timers(now)
        offers: list[Offer] = []
        contacts = [self.waiting[c] for c in self._dirty_contacts if c in self.waiting]
        self._dirty_contacts.clear()
        for contact in sorted(contacts, key=lambda c: (-c.priority, c.enqueued_at)):
            if contact.offer_id is None:
                offer = self._offer_to_best_agent(contact, now)
                if offer is not None:
                    offers.append(offer)
        while self._dirty_agents:
            agent_id = next(iter(self._dirty_agents))
            del self._dirty_agents[agent_id]
            agent = self.agents.get(agent_id)
            if agent is not None and agent.ready:
                offer = self._offer_reserved(agent, now) or self._offer_best_contact(agent, now)
                if offer is not None:
                    offers.append(offer)
        return offers

    def _offer_reserved(self, agent: Agent, now: float) -> Offer | None:
        """A contact transferred to this agent by name goes to them before anything in line."""
        for contact_id in sorted(self._reservations.get(agent.agent_id, ())):
            contact = self.waiting.get(contact_id)
            if contact is None or contact.reserved_for != agent.agent_id:
                self._reservations[agent.agent_id].discard(contact_id)
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
        return self._make_offer(contact, agent, contact.home, need, [agent], now)

    def next_due(self) -> float | None:
        """When the earliest offer expires or routing step falls due (for the distributor's sleep)."""
        times = [o.expires_at for o in self.offers.values()]
        if self._timers:
            times.append(self._timers[0][0])
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
        self._leave(contact)
        agent.active[contact.contact_id] = contact.channel
        agent.missed_in_row = 0
        self._reindex(agent, now=now)
        waited = now - contact.enqueued_at
        self._outcome(contact.home, now, answered=True, waited=waited)
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
                    self._line_up(self.waiting[offer.contact_id])

    # -- statistics ----------------------------------------------------------------------------
    def figures(self, now: float) -> list[tuple[str, QueueStatistics]]:
        """Each queue's statistics now, with its tenant."""
        staffed: dict[QueueKey, list[int]] = {q: [0, 0] for q in self.queues}
        for agent in self.agents.values():
            state = agent.state
            if state in ("available", "on_contact"):
                for queue, _level in self._queues_for(agent):
                    staffed[queue][0 if state == "available" else 1] += 1
        oldest: dict[QueueKey, float] = {}
        for contact in self.waiting.values():
            oldest[contact.home] = min(oldest.get(contact.home, now), contact.enqueued_at)
        return [
            (
                key[0],
                QueueStatistics(
                    queue_id=key[1],
                    waiting=self._waiting_in.get(key, 0),
                    longest_wait_seconds=round(now - oldest.get(key, now), 3),
                    agents_available=staffed[key][0],
                    agents_on_contact=staffed[key][1],
                    **self._service_figures(queue, now),
                ),
            )
            for key, queue in sorted(self.queues.items())
        ]

    def _service_figures(self, queue: QueueSpec, now: float) -> dict[str, float | None]:
        outcomes = self._outcomes.get(queue.key, deque())
        while outcomes and outcomes[0].at < now - STATS_WINDOW:
            outcomes.popleft()

        def service_level(window: float) -> float | None:
            # Answered within target over everything answered or abandoned after the target:
            # a caller who gives up in the first seconds does not count against the queue.
            recent = [o for o in outcomes if o.at >= now - window]
            target = queue.service_level_seconds
            counted = [o for o in recent if o.answered or o.waited > target]
            if not counted:
                return None
            met = sum(1 for o in counted if o.answered and o.waited <= target)
            return round(met / len(counted), 4)

        answered = [o.waited for o in outcomes if o.answered]
        offered = len(outcomes)
        return {
            "service_level_15m": service_level(15 * 60.0),
            "service_level_30m": service_level(STATS_WINDOW),
            "average_speed_of_answer_seconds": (
                round(sum(answered) / len(answered), 3) if answered else None
            ),
            "abandonment_rate": (
                round((offered - len(answered)) / offered, 4) if offered else None
            ),
        }

    def record_outcome(self, queue: QueueKey, *, at: float, answered: bool, waited: float) -> None:
        """Replay a past outcome (at start-up) into the statistics window."""
        self._outcome(queue, at, answered=answered, waited=waited)

    def _outcome(self, queue: QueueKey, at: float, *, answered: bool, waited: float) -> None:
        self._outcomes.setdefault(queue, deque()).append(_Outcome(at, answered, waited))

    # -- matching ------------------------------------------------------------------------------
    def _offer_to_best_agent(self, contact: Waiting, now: float) -> Offer | None:
        if contact.not_before > now:
            return None
        if contact.reserved_for is not None and now < contact.reserved_until:
            named = self.agents.get(contact.reserved_for)
            return self._offer_to_named(contact, named, now) if named else None
        waited = now - contact.enqueued_at
        found: list[tuple[Agent, QueueKey, Requirement]] = []
        for key in self._memberships[contact.contact_id]:
            queue = self.queues.get(key)
            if queue is None or not self._may_serve(contact, key):
                continue
            need = self._requirements[key][queue.level_at(waited)]
            found.extend((a, key, need) for a in self._ready_agents(key[0], contact, need, now))
        if not found:
            return None

        def rank(item: tuple[Agent, QueueKey, Requirement]) -> tuple[int, float]:
            agent, _key, need = item
            return (-agent.proficiency(need.primary), agent.ready_since)

        found.sort(key=rank)
        winner, key, need = found[0]
        return self._make_offer(contact, winner, key, need, [a for a, _, _ in found], now)

    def _ready_agents(
        self, tenant: str, contact: Waiting, need: Requirement, now: float
    ) -> list[Agent]:
        """The best few ready agents of `tenant` meeting `need`, best first."""
        channel, found = contact.channel, []
        if need.skills:
            rarest = min(need.skills, key=lambda s: self._ready_count(tenant, channel, s))
            fast = rarest == need.primary
            for level in range(5, need.skills[rarest] - 1, -1):
                for agent_id in self._ready.get(("skill", tenant, channel, rarest, str(level)), {}):
                    agent = self.agents[agent_id]
                    if _passed_over(contact, agent_id, now) or not qualifies(
                        agent.skills, frozenset(), need
                    ):
                        continue
                    found.append(agent)
                    if fast and len(found) > RUNNERS_UP:
                        return found
        else:
            for agent_id in self._ready.get(("any", tenant, channel), {}):
                if not _passed_over(contact, agent_id, now):
                    found.append(self.agents[agent_id])
                    if len(found) > RUNNERS_UP:
                        break
        for group in need.groups:
            taken = 0
            for agent_id in self._ready.get(("group", tenant, channel, group), {}):
                if not _passed_over(contact, agent_id, now) and taken <= RUNNERS_UP:
                    found.append(self.agents[agent_id])
                    taken += 1
        found.sort(key=lambda a: (-a.proficiency(need.primary), a.ready_since))
        unique = list(dict.fromkeys(found))
        return unique[: RUNNERS_UP + 1]

    def _ready_count(self, tenant: str, channel: str, skill: str) -> int:
        return sum(
            len(self._ready.get(("skill", tenant, channel, skill, str(level)), {}))
            for level in range(1, 6)
        )

    def _offer_best_contact(self, agent: Agent, now: float) -> Offer | None:
        best: tuple[int, float, Waiting, QueueKey] | None = None
        for key, level in self._queues_for(agent):
            threshold = self.queues[key].threshold(level)
            for channel in self._channels_with_room(agent):
                for priority, line in self._lines.get((key, channel), {}).items():
                    if best is not None and priority < best[0]:
                        continue
                    contact = self._head(line, key, agent.agent_id, now)
                    if contact is None or now - contact.enqueued_at < threshold:
                        continue
                    if not self._may_serve(contact, key):
                        continue
                    candidate = (priority, contact.enqueued_at, contact, key)
                    if best is None or (-priority, contact.enqueued_at) < (-best[0], best[1]):
                        best = candidate
        if best is None:
            return None
        _priority, _at, contact, key = best
        need = self._requirements[key][self.queues[key].level_at(now - contact.enqueued_at)]
        others = self._ready_agents(key[0], contact, need, now)
        considered = [agent, *[a for a in others if a is not agent]][: RUNNERS_UP + 1]
        return self._make_offer(contact, agent, key, need, considered, now)

    def _channels_with_room(self, agent: Agent) -> list[str]:
        return [channel for channel in agent.capacity if agent.spare(channel)]

    def _head(
        self, line: list[tuple[float, int, str, int]], key: QueueKey, agent_id: str, now: float
    ) -> Waiting | None:
        """The longest-waiting live contact of a line this agent has not declined; stale entries
        met on the way are dropped."""
        while line:
            _at, _seq, contact_id, version = line[0]
            contact = self.waiting.get(contact_id)
            if self._live(contact, version, key):
                break
            heapq.heappop(line)
        skipped: list[tuple[float, int, str, int]] = []
        found = None
        while line and len(skipped) < HEAD_SCAN:
            entry = heapq.heappop(line)
            skipped.append(entry)
            contact = self.waiting.get(entry[2])
            if not self._live(contact, entry[3], key):
                skipped.pop()
                continue
            assert contact is not None
            if not _passed_over(contact, agent_id, now):
                found = contact
                break
        for entry in skipped:
            heapq.heappush(line, entry)
        return found

    def _live(self, contact: Waiting | None, version: int, key: QueueKey) -> bool:
        return (
            contact is not None
            and contact.version == version
            and contact.offer_id is None
            and key in self._memberships.get(contact.contact_id, ())
        )

    def _may_serve(self, contact: Waiting, key: QueueKey) -> bool:
        """Another tenant's agents take a contact only where that tenant's agreement allows."""
        return key[0] == contact.tenant_id or contact.tenant_id in self.partners.get(key[0], ())

    def _make_offer(
        self,
        contact: Waiting,
        agent: Agent,
        key: QueueKey,
        need: Requirement,
        considered: list[Agent],
        now: float,
    ) -> Offer:
        queue = self.queues[key]
        timeout = queue.offer_timeouts.get(contact.channel) or self.default_timeouts.get(
            contact.channel, 60
        )
        candidates = [
            Candidate(a.agent_id, a.proficiency(need.primary), round(now - a.ready_since, 3))
            for a in considered
        ]
        offer = Offer(
            offer_id=new_id(),
            contact_id=contact.contact_id,
            agent_id=agent.agent_id,
            queue=key,
            expires_at=now + timeout,
            timeout_seconds=timeout,
            rule=contact.rule,
            step=need.step,
            considered=candidates,
            why=_why(agent, need, candidates, key, contact),
        )
        self.offers[offer.offer_id] = offer
        contact.offer_id = offer.offer_id
        contact.version += 1
        agent.offer_id = offer.offer_id
        self._unindex(agent)
        return offer

    def adopt(self, offer: Offer) -> None:
        """Take back an offer in flight from the record (at start-up)."""
        contact, agent = self.waiting.get(offer.contact_id), self.agents.get(offer.agent_id)
        if contact is None or agent is None:
            return
        self.offers[offer.offer_id] = offer
        contact.offer_id, agent.offer_id = offer.offer_id, offer.offer_id
        contact.version += 1
        self._unindex(agent)

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
                self._reindex(agent, now=now)

    def _cancel_offer_of(self, contact: Waiting, now: float) -> Offer | None:
        offer = self.offers.get(contact.offer_id) if contact.offer_id else None
        if offer is not None:
            self._close_offer(offer, now=now)
        return offer

    def _return(self, offer: Offer, *, now: float) -> None:
        """Declined or lapsed: the contact goes back to its place and to other agents (a contact
        transferred to this agent by name too); this agent is passed over for a while (if nobody else can take it, it comes back to them then)."""
        self._close_offer(offer, now=now)
        contact = self.waiting.get(offer.contact_id)
        if contact is not None:
            if contact.reserved_for == offer.agent_id:  # the named agent said no: anyone now
                contact.reserved_for = None
            until = now + self.retry_same_agent_after
            contact.excluded[offer.agent_id] = until
            self._timer(until, contact, "retry")
            self._line_up(contact)

    def _leave(self, contact: Waiting) -> None:
        self.waiting.pop(contact.contact_id, None)
        self._memberships.pop(contact.contact_id, None)
        self._waiting_in[contact.home] -= 1
        contact.version += 1

    def _line_up(self, contact: Waiting) -> None:
        contact.version += 1
        for key in self._memberships[contact.contact_id]:
            line = self._lines.setdefault((key, contact.channel), {}).setdefault(
                contact.priority, []
            )
            entry = (contact.enqueued_at, next(self._seq), contact.contact_id, contact.version)
            heapq.heappush(line, entry)
        self._dirty_contacts.add(contact.contact_id)

    def _schedule(self, contact: Waiting) -> None:
        queue = self.queues.get(contact.home)
        if queue is None:
            return
        for step in queue.steps:
            self._timer(contact.enqueued_at + step.after_seconds, contact, "step")
        if queue.overflow_after is not None and queue.overflow_to:
            self._timer(contact.enqueued_at + queue.overflow_after, contact, "overflow")

    def _timer(self, due: float, contact: Waiting, kind: str) -> None:
        heapq.heappush(self._timers, (due, next(self._seq), contact.contact_id, 0, kind))

    def _fire_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _due, _seq, contact_id, _v, kind = heapq.heappop(self._timers)
            contact = self.waiting.get(contact_id)
            if contact is None:
                continue
            if kind == "overflow":
                self._overflow(contact)
            elif contact.offer_id is None:
                self._dirty_contacts.add(contact_id)

    def _overflow(self, contact: Waiting) -> None:
        queue = self.queues.get(contact.home)
        if queue is None or contact.overflowed:
            return
        targets = {k for k in queue.overflow_to if k in self.queues and self._may_serve(contact, k)}
        contact.overflowed = True
        self._memberships[contact.contact_id] |= targets
        if contact.offer_id is None:
            self._line_up(contact)

    def _queues_for(self, agent: Agent) -> list[tuple[QueueKey, int]]:
        cached = self._agent_queues.get(agent.agent_id)
        if cached is None:
            cached = []
            for tenant in agent.tenants:
                for key in self._queues_of_tenant.get(tenant, ()):
                    level = lowest_level(agent.skills, agent.groups, self._requirements[key])
                    if level is not None:
                        cached.append((key, level))
            self._agent_queues[agent.agent_id] = cached
        return cached

    def _unindex(self, agent: Agent) -> None:
        for key in agent.index_keys:
            bucket = self._ready.get(key)
            if bucket is not None:
                bucket.pop(agent.agent_id, None)
        agent.index_keys = []

    def _reindex(self, agent: Agent, *, now: float) -> None:
        """File a ready agent at the back of every bucket they belong to (the back is the most
        recently ready), or take them out of all of them."""
        self._unindex(agent)
        if not agent.ready:
            return
        agent.ready_since = now
        keys: list[tuple[str, ...]] = []
        for tenant in agent.tenants:
            for channel in self._channels_with_room(agent):
                keys.append(("any", tenant, channel))
                keys.extend(("group", tenant, channel, g) for g in agent.groups)
                keys.extend(
                    ("skill", tenant, channel, skill, str(level))
                    for skill, level in agent.skills.items()
                )
        for key in keys:
            self._ready.setdefault(key, {})[agent.agent_id] = None
        agent.index_keys = keys
        self._dirty_agents[agent.agent_id] = None


def _passed_over(contact: Waiting, agent_id: str, now: float) -> bool:
    return (
        contact.excluded.get(agent_id, 0.0) > now
        or contact.not_before > now
        or contact.reserved_elsewhere(agent_id, now)
    )


def _why(
    agent: Agent, need: Requirement, candidates: list[Candidate], key: QueueKey, contact: Waiting
) -> str:
    others = len(candidates) - 1
    if need.step == NAMED:
        return f"{agent.agent_id}: transferred to them by name"
    if need.primary is None:
        basis = "longest ready" + (" among agents with no skill required" if others else "")
    else:
        mine = agent.proficiency(need.primary)
        tied = [c for c in candidates[1:] if c.proficiency == mine]
        basis = (
            f"{need.primary} proficiency {mine}, ready longest of those equal"
            if tied
            else f"highest {need.primary} proficiency ({mine})"
        )
    where = (
        ""
        if key[0] == contact.tenant_id and key[1] == contact.queue_id
        else (f" via overflow to {key[0]}/{key[1]}")
    )
    return f"{agent.agent_id}: {basis}; {others} other ready agent(s) considered{where}"
