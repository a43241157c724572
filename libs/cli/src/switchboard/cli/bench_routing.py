"""Routing decisions per second and the p99 decision time, in a centre of 10,000 agents, 500
queues and 100,000 waiting contacts, beside the same for 100 agents: the ACD's Engine in-process
(a decision is pure computation on its indexes; the record and the broker are measured by the
intake figures)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from switchboard.routing.domain import QueueSpec, Step
from switchboard.routing.engine import Engine
from switchboard.routing.lines import Waiting

TENANTS = 50
QUEUES_PER_TENANT = 10
SKILLS = [f"skill-{n}" for n in range(20)]
CHANNELS = ("phone", "email")
DECISIONS = 20_000


@dataclass
class Figures:
    agents: int
    queues: int
    waiting: int
    decisions: int
    per_second: float
    p50_us: float
    p99_us: float
    setup_seconds: float


def _centre(agents: int, waiting: int, rng: random.Random) -> Engine:
    engine = Engine(missed_offers_limit=3)
    for t in range(TENANTS):
        for q in range(QUEUES_PER_TENANT):
            skills = dict.fromkeys(rng.sample(SKILLS, rng.choice((1, 1, 2))), rng.randint(1, 3))
            engine.set_queue(
                QueueSpec(
                    tenant_id=f"t{t}",
                    queue_id=f"q{q}",
                    skills=skills,
                    priority=rng.randint(1, 10),
                    steps=(Step(after_seconds=60, min_proficiency=1),),
                )
            )
    for n in range(agents):
        engine.set_agent(
            f"a{n}",
            tenants=[f"t{n % TENANTS}"],
            skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, 6)},
            capacity={"phone": 1, "email": 2},
        )
        engine.set_presence(f"a{n}", "available", reason=None, now=0.0)
    for n in range(waiting):
        _arrive(engine, n, rng, at=rng.uniform(0, 30))
    return engine


def _arrive(engine: Engine, n: int, rng: random.Random, *, at: float) -> None:
    tenant = rng.randrange(TENANTS)
    engine.enqueue(
        Waiting(
            contact_id=f"c{n}",
            tenant_id=f"t{tenant}",
            queue_id=f"q{rng.randrange(QUEUES_PER_TENANT)}",
            channel=rng.choice(CHANNELS),
            priority=rng.randint(1, 10),
            enqueued_at=at,
        )
    )


def _settle(engine: Engine, now: float) -> None:
    """Make and accept offers until every agent is busy or nothing else can be offered."""
    while offers := engine.decide(now):
        for offer in offers:
            engine.accept(offer.offer_id, now=now)


def measure(agents: int, waiting: int = 100_000, decisions: int = DECISIONS) -> Figures:
    rng = random.Random(7)
    started = time.perf_counter()
    engine = _centre(agents, waiting, rng)
    now = 30.0
    _settle(engine, now)
    setup = time.perf_counter() - started
    busy = [a for a in engine.agents.values() if a.active]
    timings: list[float] = []
    for n in range(decisions):
        now += 0.01
        if n % 2:  # a contact arrives
            _arrive(engine, waiting + n, rng, at=now)
        else:  # an agent finishes one contact and is ready for the next
            agent = rng.choice(busy)
            if agent.active:
                engine.wrapped(next(iter(agent.active)), agent.agent_id, now=now)
        tick = time.perf_counter()
        offers = engine.decide(now)
        timings.append(time.perf_counter() - tick)
        for offer in offers:
            engine.accept(offer.offer_id, now=now)
    timings.sort()
    return Figures(
        agents=agents,
        queues=len(engine.queues),
        waiting=len(engine.waiting),
        decisions=decisions,
        per_second=decisions / sum(timings),
        p50_us=timings[len(timings) // 2] * 1e6,
        p99_us=timings[int(len(timings) * 0.99)] * 1e6,
        setup_seconds=setup,
    )


def bench_routing() -> None:
    print("routing, ACD decisions (one event applied, then every offer it allows), in-process")
    for agents in (100, 10_000):
        f = measure(agents)
        print(
            f"  {f.agents:6d} agents {f.queues} queues {f.waiting:7d} waiting: "
            f"{f.per_second:9.0f} decisions/s   p50 {f.p50_us:7.1f} us   p99 {f.p99_us:7.1f} us"
            f"   (built and filled in {f.setup_seconds:.1f} s)"
        )
