"""The queue plan the engine consults: which step an agent qualifies at, which tenants' contacts
another tenant's agents may take, where a contact overflows, and the offer timeout by channel."""

from __future__ import annotations

from switchboard.routing.domain import QueueSpec, Step
from switchboard.routing.lines import Waiting
from switchboard.routing.queues import Queues
from switchboard.routing.roster import Agent


def _plan() -> Queues:
    plan = Queues(default_timeouts={"email": 60}, partners={"globex": ["acme"]})
    plan.put(
        QueueSpec(
            "acme",
            "billing",
            {"billing": 3},
            steps=(Step(30.0, drop_skills=frozenset({"billing"})),),
            overflow_to=(("globex", "overflow"), ("initech", "spare")),
            offer_timeouts={"phone": 12},
        )
    )
    plan.put(QueueSpec("globex", "overflow", {}))
    plan.put(QueueSpec("initech", "spare", {}))
    return plan


def test_an_agent_qualifies_at_the_first_step_whose_requirement_they_meet() -> None:
    plan = _plan()
    expert = Agent("a1", frozenset({"acme"}), {"billing": 4}, {"email": 1})
    novice = Agent("a2", frozenset({"acme"}), {}, {"email": 1})
    assert plan.of_agent(expert) == [(("acme", "billing"), 0)]
    assert plan.of_agent(novice) == [(("acme", "billing"), 1)]
    assert plan.requirement(("acme", "billing"), 10.0).skills == {"billing": 3}
    assert plan.requirement(("acme", "billing"), 31.0).skills == {}

    novice.skills = {"billing": 5}
    assert plan.of_agent(novice) == [(("acme", "billing"), 1)], "cached until told"
    plan.agent_changed("a2")
    assert plan.of_agent(novice) == [(("acme", "billing"), 0)]


def test_overflow_goes_only_where_the_other_tenant_agreed_to_take_it() -> None:
    plan = _plan()
    contact = Waiting("c1", "acme", "billing", "email", 5, enqueued_at=0.0)
    assert plan.may_serve(contact, ("globex", "overflow"))
    assert not plan.may_serve(contact, ("initech", "spare"))
    assert plan.overflow_targets(contact) == {("globex", "overflow")}
    contact.overflowed = True
    assert plan.overflow_targets(contact) is None


def test_a_queue_may_shorten_the_offer_timeout_of_a_channel() -> None:
    plan = _plan()
    assert plan.offer_timeout(("acme", "billing"), "phone") == 12
    assert plan.offer_timeout(("acme", "billing"), "email") == 60
    assert plan.offer_timeout(("acme", "billing"), "fax") == 60
