"""The ACD's decisions, with time passed in: priority, skills, proficiency, idle time, capacity,
steps, overflow and tenant boundaries — no broker, no database."""

from __future__ import annotations

from switchboard.common.centre import OverflowConfig, QueueConfig, RoutingStep
from switchboard.routing.domain import QueueSpec
from switchboard.routing.engine import Engine
from switchboard.routing.lines import Waiting
from switchboard.routing.offers import Offer

WRITTEN = {"email": 3, "letter": 3, "fax": 3}
BLENDED = {"phone": 1, **WRITTEN}


def _engine(*queues: QueueConfig, tenant: str = "acme", **kwargs: object) -> Engine:
    engine = Engine(**kwargs)  # type: ignore[arg-type]
    for queue in queues:
        engine.set_queue(QueueSpec.from_config(tenant, queue))
    return engine


def _agent(
    engine: Engine,
    agent_id: str,
    *,
    skills: dict[str, int] | None = None,
    tenants: tuple[str, ...] = ("acme",),
    capacity: dict[str, int] | None = None,
    groups: tuple[str, ...] = (),
    at: float = 0.0,
) -> None:
    engine.set_agent(
        agent_id,
        tenants=tenants,
        skills=skills or {},
        capacity=capacity or BLENDED,
        groups=groups,
    )
    engine.set_presence(agent_id, "available", reason=None, now=at)


_counter = iter(range(1_000_000))


def _contact(
    engine: Engine,
    *,
    queue: str = "billing",
    channel: str = "email",
    priority: int = 5,
    at: float = 0.0,
    tenant: str = "acme",
) -> str:
    contact_id = f"c{next(_counter)}"
    engine.enqueue(Waiting(contact_id, tenant, queue, channel, priority, enqueued_at=at))
    return contact_id


def _who(offers: list[Offer]) -> dict[str, str]:
    return {o.contact_id: o.agent_id for o in offers}


BILLING = QueueConfig(id="billing", name="Billing", skills={"billing": 3})


def test_only_agents_with_every_required_skill_are_offered() -> None:
    engine = _engine(QueueConfig(id="billing", name="B", skills={"billing": 3, "spanish": 2}))
    _agent(engine, "anglo", skills={"billing": 5})
    _agent(engine, "novice", skills={"billing": 2, "spanish": 5})
    _agent(engine, "bilingual", skills={"billing": 3, "spanish": 2})
    contact = _contact(engine, at=1)
    assert _who(engine.decide(2)) == {contact: "bilingual"}


def test_the_most_proficient_then_the_longest_idle_agent_wins() -> None:
    engine = _engine(BILLING)
    _agent(engine, "fresh-expert", skills={"billing": 5}, at=50)
    _agent(engine, "idle-expert", skills={"billing": 5}, at=10)
    _agent(engine, "idlest-adequate", skills={"billing": 3}, at=0)
    contact = _contact(engine, at=60)
    [offer] = engine.decide(61)
    assert offer.agent_id == "idle-expert"
    assert [c.agent_id for c in offer.considered] == [
        "idle-expert",
        "fresh-expert",
        "idlest-adequate",
    ]
    assert "billing proficiency 5, ready longest" in offer.why
    assert offer.contact_id == contact and offer.step == "base requirements"


def test_an_agent_who_becomes_free_takes_the_highest_priority_then_longest_waiting() -> None:
    engine = _engine(BILLING)
    _contact(engine, priority=5, at=0)
    urgent_late = _contact(engine, priority=8, at=20)
    _contact(engine, priority=8, at=30)
    assert engine.decide(40) == []  # nobody is ready
    _agent(engine, "amy", skills={"billing": 3}, at=41)
    assert _who(engine.decide(41)) == {urgent_late: "amy"}


def test_capacity_per_channel_and_a_call_takes_all_attention() -> None:
    engine = _engine(BILLING)
    _agent(engine, "amy", skills={"billing": 3}, capacity={"phone": 1, "email": 2})
    emails = [_contact(engine, at=i) for i in range(3)]
    first = engine.decide(10)
    engine.accept(first[0].offer_id, now=11)
    second = engine.decide(11)
    engine.accept(second[0].offer_id, now=12)
    assert engine.decide(12) == [], "two emails is amy's limit"
    assert {first[0].contact_id, second[0].contact_id} == set(emails[:2])
    call = _contact(engine, channel="phone", at=13)
    [offer] = engine.decide(13)
    assert offer.contact_id == call, "a call may still come while emails are open"
    engine.accept(offer.offer_id, now=14)
    engine.wrapped(emails[0], "amy", now=15)
    assert engine.decide(15) == [], "no written work during a call"
    engine.call_ended(call, "amy", now=16)
    engine.wrapped(call, "amy", now=17)
    assert _who(engine.decide(17)) == {emails[2]: "amy"}


def test_a_declined_or_lapsed_offer_goes_to_the_next_agent_not_back_for_a_while() -> None:
    engine = _engine(BILLING, missed_offers_limit=2, retry_same_agent_after=300)
    _agent(engine, "amy", skills={"billing": 5}, at=0)
    _agent(engine, "bob", skills={"billing": 4}, at=0)
    _agent(engine, "cat", skills={"billing": 3}, at=0)
    contact = _contact(engine, at=1)
    [offer] = engine.decide(1)
    assert offer.agent_id == "amy" and offer.expires_at == 61
    engine.decline(offer.offer_id, now=2)
    [offer] = engine.decide(2)
    assert offer.agent_id == "bob"
    assert [o.offer_id for o in engine.expired(61)] == []
    assert [o.offer_id for o in engine.expired(62)] == [offer.offer_id]
    assert engine.time_out(offer.offer_id, now=62) is False
    [offer] = engine.decide(62)
    assert (offer.contact_id, offer.agent_id) == (contact, "cat")
    engine.decline(offer.offer_id, now=63)
    assert engine.decide(63) == [], "everyone qualified has said no just now"
    assert engine.waiting_count(("acme", "billing")) == 1
    [offer] = engine.decide(302)
    assert offer.agent_id == "amy", "nobody else took it: after a while it comes back"


def test_missing_offers_in_a_row_puts_the_agent_on_break() -> None:
    engine = _engine(BILLING, missed_offers_limit=2)
    _agent(engine, "amy", skills={"billing": 5})
    _contact(engine, at=0)
    _contact(engine, at=0)
    [first] = engine.decide(0)
    assert engine.time_out(first.offer_id, now=60) is False
    [second] = engine.decide(60)
    assert second.agent_id == "amy" and second.contact_id != first.contact_id
    assert engine.time_out(second.offer_id, now=120) is True
    agent = engine.agents["amy"]
    assert (agent.state, agent.break_reason) == ("break", "missed offers")
    assert engine.decide(120) == []


def test_voice_offers_time_out_sooner_and_queues_may_override() -> None:
    engine = _engine(
        BILLING, QueueConfig(id="quick", name="Q", offer_timeout_seconds={"email": 20})
    )
    _agent(engine, "amy", skills={"billing": 3})
    _agent(engine, "bob", skills={"billing": 3})
    _contact(engine, channel="phone", at=0)
    _contact(engine, queue="quick", at=0)
    offers = {o.queue[1]: o.timeout_seconds for o in engine.decide(0)}
    assert offers == {"billing": 15, "quick": 20}


def test_a_caller_who_hangs_up_is_withdrawn_with_the_offer() -> None:
    engine = _engine(BILLING)
    _agent(engine, "amy", skills={"billing": 3})
    call = _contact(engine, channel="phone", at=0)
    other = _contact(engine, channel="phone", at=1)
    [offer] = engine.decide(1)
    assert offer.contact_id == call
    withdrawn = engine.withdraw(call, now=5, abandoned=True)
    assert withdrawn is not None and withdrawn.offer_id == offer.offer_id
    assert _who(engine.decide(5)) == {other: "amy"}, "amy is free for the next caller"
    assert engine.accept(offer.offer_id, now=6) is None, "the withdrawn offer cannot be accepted"


def test_steps_widen_the_pool_while_the_contact_keeps_its_place() -> None:
    engine = _engine(
        QueueConfig(
            id="billing",
            name="B",
            skills={"billing": 4, "spanish": 3},
            steps=[
                RoutingStep(after_seconds=30, drop_skills=["spanish"]),
                RoutingStep(after_seconds=60, add_groups=["supervisors"]),
            ],
        )
    )
    _agent(engine, "sue", groups=("supervisors",))
    old = _contact(engine, at=0)
    assert engine.decide(29) == []
    _agent(engine, "ben", skills={"billing": 4}, at=29)
    assert engine.decide(29) == [], "ben lacks spanish until the first step"
    [offer] = engine.decide(30)
    assert (offer.contact_id, offer.agent_id) == (old, "ben")
    assert offer.step.startswith("step 1 after 30s (drop spanish)")
    engine.decline(offer.offer_id, now=31)
    assert engine.decide(59) == []
    [offer] = engine.decide(60)
    assert offer.agent_id == "sue" and "add group supervisors" in offer.step


def test_a_step_is_taken_at_once_for_an_agent_who_becomes_free_later() -> None:
    engine = _engine(
        QueueConfig(
            id="billing",
            name="B",
            skills={"billing": 4},
            steps=[RoutingStep(after_seconds=30, min_proficiency=2)],
        )
    )
    contact = _contact(engine, at=0)
    _agent(engine, "junior", skills={"billing": 2}, at=10)
    assert engine.decide(10) == []
    assert _who(engine.decide(31)) == {contact: "junior"}


def _overflowing_centre(*, agreed: bool) -> Engine:
    engine = _engine(
        QueueConfig(
            id="billing",
            name="B",
            skills={"billing": 3},
            overflow=OverflowConfig(after_seconds=60, to=["globex/overflow"]),
        ),
        partners={"globex": ["acme"]} if agreed else {},
    )
    engine.set_queue(QueueSpec.from_config("globex", QueueConfig(id="overflow", name="O")))
    _agent(engine, "gina", tenants=("globex",), skills={"billing": 5})
    return engine


def test_overflow_reaches_a_partner_tenant_s_agents_after_the_threshold() -> None:
    engine = _overflowing_centre(agreed=True)
    contact = _contact(engine, at=0)
    assert engine.decide(59) == []
    [offer] = engine.decide(60)
    assert (offer.contact_id, offer.agent_id, offer.queue) == (
        contact,
        "gina",
        ("globex", "overflow"),
    )
    assert "via overflow to globex/overflow" in offer.why


def test_overflow_never_crosses_to_a_tenant_that_has_not_agreed() -> None:
    engine = _overflowing_centre(agreed=False)
    _contact(engine, at=0)
    assert engine.decide(60) == [] and engine.decide(6000) == []


def test_an_agent_never_sees_another_tenant_s_contacts_without_overflow() -> None:
    engine = _engine(BILLING)
    engine.set_queue(QueueSpec.from_config("globex", BILLING))
    _agent(engine, "gina", tenants=("globex",), skills={"billing": 5})
    _contact(engine, at=0)
    assert engine.decide(1000) == []
    mine = _contact(engine, tenant="globex", at=1)
    assert _who(engine.decide(1001)) == {mine: "gina"}


def test_an_escalated_contact_jumps_ahead_by_priority_keeping_its_time() -> None:
    engine = _engine(BILLING)
    first = _contact(engine, at=0)
    late = _contact(engine, at=50)
    engine.escalate(late, priority=9, queue_id=None, now=60)
    _agent(engine, "amy", skills={"billing": 3}, at=61)
    assert _who(engine.decide(61)) == {late: "amy"}
    assert first in engine.waiting


def test_an_agent_stepping_away_hands_back_their_offer() -> None:
    engine = _engine(BILLING)
    _agent(engine, "amy", skills={"billing": 3}, at=0)
    contact = _contact(engine, at=0)
    [offer] = engine.decide(0)
    withdrawn = engine.set_presence("amy", "break", reason="lunch", now=5)
    assert withdrawn is offer
    _agent(engine, "bob", skills={"billing": 3}, at=6)
    assert _who(engine.decide(6)) == {contact: "bob"}, "not excluded: amy did not decline it"


def test_queue_figures() -> None:
    engine = _engine(QueueConfig(id="billing", name="B", service_level_seconds=20))
    _agent(engine, "amy", at=0)
    fast = _contact(engine, channel="phone", at=0)
    [offer] = engine.decide(5)
    engine.accept(offer.offer_id, now=10)  # answered in 10 s: within target
    slow = _contact(engine, channel="phone", at=10)
    gave_up = _contact(engine, channel="phone", at=11)
    quick_hangup = _contact(engine, channel="phone", at=12)
    engine.withdraw(gave_up, now=51, abandoned=True)  # abandoned after the target: counts
    engine.withdraw(quick_hangup, now=15, abandoned=True)  # within the target: does not
    [(tenant, figures)] = engine.figures(60)
    assert (tenant, figures.queue_id) == ("acme", "billing")
    assert fast not in engine.waiting and slow in engine.waiting
    assert figures.waiting == 1 and figures.longest_wait_seconds == 50
    assert figures.agents_on_contact == 1 and figures.agents_available == 0
    assert figures.service_level_15m == 0.5
    assert figures.average_speed_of_answer_seconds == 10
    assert figures.abandonment_rate == round(2 / 3, 4)


def test_a_contact_transferred_to_a_named_agent_waits_for_them_then_goes_to_anyone() -> None:
    engine = _engine(BILLING)
    _agent(engine, "expert", skills={"billing": 5}, at=0)
    _agent(engine, "named", skills={}, at=5)  # not even qualified for the queue
    engine.set_presence("named", "break", reason="lunch", now=6)
    engine.enqueue(
        Waiting(
            "t1",
            "acme",
            "billing",
            "email",
            5,
            enqueued_at=0,
            reserved_for="named",
            reserved_until=40,
        )
    )
    assert engine.decide(10) == []  # the expert is ready, but it is kept for the named agent
    engine.set_presence("named", "available", reason=None, now=20)
    [offer] = engine.decide(21)
    assert (offer.agent_id, offer.step) == ("named", "transfer to a named agent")
    assert offer.why == "named: transferred to them by name"
    engine.decline(offer.offer_id, now=22)
    [fallback] = engine.decide(23)  # they said no: the queue's agents take it
    assert fallback.agent_id == "expert"


def test_a_named_transfer_nobody_answers_goes_to_the_queue_when_it_lapses() -> None:
    engine = _engine(BILLING)
    _agent(engine, "expert", skills={"billing": 5}, at=0)
    engine.enqueue(
        Waiting(
            "t2",
            "acme",
            "billing",
            "email",
            5,
            enqueued_at=0,
            reserved_for="away",
            reserved_until=40,
        )
    )
    assert engine.decide(39) == []
    [offer] = engine.decide(40)
    assert offer.agent_id == "expert"


def test_a_callback_is_not_offered_before_its_time_and_keeps_its_place() -> None:
    engine = _engine(BILLING)
    engine.enqueue(Waiting("cb", "acme", "billing", "phone", 5, enqueued_at=0, not_before=100))
    newer = _contact(engine, channel="phone", at=50)
    _agent(engine, "a", skills={"billing": 5}, at=60)
    assert _who(engine.decide(61)) == {newer: "a"}
    engine.accept(next(iter(engine.offers)), now=62)
    engine.wrapped(newer, "a", now=63)
    assert engine.decide(64) == []
    assert _who(engine.decide(100)) == {"cb": "a"}


def test_a_walk_in_held_by_its_agent_uses_their_capacity() -> None:
    engine = _engine(BILLING)
    _agent(engine, "a", skills={"billing": 5}, capacity={"walk_in": 1, "phone": 1}, at=0)
    engine.hold("w1", "a", "walk_in", now=1)
    _contact(engine, channel="phone", at=2)
    assert engine.decide(3) == []  # face to face with a customer: no call on top
    engine.wrapped("w1", "a", now=4)
    assert len(engine.decide(5)) == 1
