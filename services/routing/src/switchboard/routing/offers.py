"""What the ACD decides: an offer of a contact to an agent, with the agents it was weighed against
and why this one; the assignment an accepted offer makes."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.common.ids import new_id
from switchboard.routing.domain import QueueKey, Requirement
from switchboard.routing.lines import Waiting
from switchboard.routing.roster import Agent

NAMED = "transfer to a named agent"
DEFAULT_TIMEOUTS = {
    "phone": 15,
    "email": 60,
    "letter": 60,
    "fax": 60,
    "chat": 20,
    "sms": 60,
    "walk_in": 15,
}
"""How long an offer waits for the agent, by channel (the settings and a queue may say otherwise)."""


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

    @classmethod
    def of(
        cls,
        contact: Waiting,
        key: QueueKey,
        need: Requirement,
        ranked: list[Agent],
        *,
        now: float,
        timeout: int,
    ) -> Offer:
        """The offer of `contact` to the first of the `ranked` agents, saying whom else it was
        weighed against and why."""
        agent = ranked[0]
        candidates = [
            Candidate(a.agent_id, a.proficiency(need.primary), round(now - a.ready_since, 3))
            for a in ranked
        ]
        return cls(
            offer_id=new_id(),
            contact_id=contact.contact_id,
            agent_id=agent.agent_id,
            queue=key,
            expires_at=now + timeout,
            timeout_seconds=timeout,
            rule=contact.rule,
            step=need.step,
            considered=candidates,
            why=why(agent, need, candidates, key, contact),
        )


@dataclass(frozen=True)
class Assignment:
    contact: Waiting
    agent_id: str
    queue: QueueKey
    waited_seconds: float


def why(
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
