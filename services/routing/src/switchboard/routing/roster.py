"""The agents and who of them is ready, indexed so that a decision looks at the few agents that
could matter, never at everyone: ready agents by (tenant, channel, skill, proficiency), by
(tenant, channel, group) and by (tenant, channel), each an insertion-ordered dict whose first entry
is the agent who has been ready the longest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from switchboard.routing.domain import VOICE, Requirement, qualifies
from switchboard.routing.lines import Waiting

RUNNERS_UP = 4
"""How many other ready agents an offer's reason names (and a search stops after)."""
WHOLE_ATTENTION = frozenset({VOICE, "walk_in"})
"""A call or a customer at the counter has the agent's whole attention: nothing else is offered."""


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

    def channels_with_room(self) -> list[str]:
        return [channel for channel in self.capacity if self.spare(channel)]


class Roster:
    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.dirty: dict[str, None] = {}
        """Agents who may take something now (just became ready), in the order they did."""
        self._ready: dict[tuple[str, ...], dict[str, None]] = {}

    def unindex(self, agent: Agent) -> None:
        for key in agent.index_keys:
            bucket = self._ready.get(key)
            if bucket is not None:
                bucket.pop(agent.agent_id, None)
        agent.index_keys = []

    def reindex(self, agent: Agent, *, now: float) -> None:
        """File a ready agent at the back of every bucket they belong to (the back is the most
        recently ready), or take them out of all of them."""
        self.unindex(agent)
        if not agent.ready:
            return
        agent.ready_since = now
        keys: list[tuple[str, ...]] = []
        for tenant in agent.tenants:
            for channel in agent.channels_with_room():
                keys.append(("any", tenant, channel))
                keys.extend(("group", tenant, channel, g) for g in agent.groups)
                keys.extend(
                    ("skill", tenant, channel, skill, str(level))
                    for skill, level in agent.skills.items()
                )
        for key in keys:
            self._ready.setdefault(key, {})[agent.agent_id] = None
        agent.index_keys = keys
        self.dirty[agent.agent_id] = None

    def ready_for(
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
                    if contact.passed_over(agent_id, now) or not qualifies(
                        agent.skills, frozenset(), need
                    ):
                        continue
                    found.append(agent)
                    if fast and len(found) > RUNNERS_UP:
                        return found
        else:
            for agent_id in self._ready.get(("any", tenant, channel), {}):
                if not contact.passed_over(agent_id, now):
                    found.append(self.agents[agent_id])
                    if len(found) > RUNNERS_UP:
                        break
        for group in need.groups:
            taken = 0
            for agent_id in self._ready.get(("group", tenant, channel, group), {}):
                if not contact.passed_over(agent_id, now) and taken <= RUNNERS_UP:
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
