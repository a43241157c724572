"""The queues the engine routes to, as configured: each queue's requirement at each routing step,
the queues of each tenant, which tenants' overflow another tenant's agents may take, and (cached)
the queues each agent qualifies for and at which step. Pure and synchronous, like the engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from switchboard.routing.domain import QueueKey, QueueSpec, Requirement, lowest_level
from switchboard.routing.lines import Waiting
from switchboard.routing.roster import Agent


class Queues:
    def __init__(
        self,
        *,
        default_timeouts: Mapping[str, int],
        partners: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.default_timeouts = dict(default_timeouts)
        self.specs: dict[QueueKey, QueueSpec] = {}
        self.partners = {t: set(p) for t, p in (partners or {}).items()}
        """tenant → tenants whose overflow its agents may take."""
        self._requirements: dict[QueueKey, list[Requirement]] = {}
        self._of_tenant: dict[str, set[QueueKey]] = {}
        self._of_agent: dict[str, list[tuple[QueueKey, int]]] = {}

    def put(self, queue: QueueSpec) -> None:
        """Add or change a queue; every agent's qualifications are worked out again."""
        self.specs[queue.key] = queue
        self._requirements[queue.key] = [
            queue.requirement(level) for level in range(len(queue.steps) + 1)
        ]
        self._of_tenant.setdefault(queue.tenant_id, set()).add(queue.key)
        self._of_agent.clear()

    def set_partners(self, tenant_id: str, partners: Iterable[str]) -> None:
        self.partners[tenant_id] = set(partners)

    def agent_changed(self, agent_id: str) -> None:
        self._of_agent.pop(agent_id, None)

    def requirement(self, key: QueueKey, waited: float) -> Requirement:
        """What an agent needs to take a contact that has waited this long in this queue."""
        return self._requirements[key][self.specs[key].level_at(waited)]

    def may_serve(self, contact: Waiting, key: QueueKey) -> bool:
        """Another tenant's agents take a contact only where that tenant's agreement allows."""
        return key[0] == contact.tenant_id or contact.tenant_id in self.partners.get(key[0], ())

    def offer_timeout(self, key: QueueKey, channel: str) -> int:
        return self.specs[key].offer_timeouts.get(channel) or self.default_timeouts.get(channel, 60)

    def overflow_targets(self, contact: Waiting) -> set[QueueKey] | None:
        """The queues a contact overflows to from its home queue (None: it does not overflow)."""
        queue = self.specs.get(contact.home)
        if queue is None or contact.overflowed:
            return None
        return {k for k in queue.overflow_to if k in self.specs and self.may_serve(contact, k)}

    def of_agent(self, agent: Agent) -> list[tuple[QueueKey, int]]:
        """The queues an agent qualifies for, each with the first routing step at which they do."""
        cached = self._of_agent.get(agent.agent_id)
        if cached is None:
            cached = []
            for tenant in agent.tenants:
                for key in self._of_tenant.get(tenant, ()):
                    level = lowest_level(agent.skills, agent.groups, self._requirements[key])
                    if level is not None:
                        cached.append((key, level))
            self._of_agent[agent.agent_id] = cached
        return cached
