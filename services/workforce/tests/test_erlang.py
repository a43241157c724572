"""The staffing formulas against published Erlang tables, exact special cases and a simulation."""

from __future__ import annotations

import heapq
import math
import random

import pytest
from scipy.stats import poisson

from switchboard.workforce import erlang

# Erlang B and C as printed in traffic tables (traffic in erlangs, agents, probability).
ERLANG_B_TABLE = [(2.0, 5, 0.0367), (5.0, 10, 0.0184), (10.0, 10, 0.2146), (20.0, 25, 0.0505)]
ERLANG_C_TABLE = [
    (10.0, 11, 0.6821),
    (10.0, 12, 0.4494),
    (10.0, 13, 0.2853),
    (10.0, 14, 0.1741),
    (2.0, 3, 0.4444),
]


@pytest.mark.parametrize(("traffic", "agents", "printed"), ERLANG_B_TABLE)
def test_erlang_b_matches_the_printed_table(traffic: float, agents: int, printed: float) -> None:
    assert erlang.erlang_b(traffic, agents) == pytest.approx(printed, abs=5e-4)


@pytest.mark.parametrize(("traffic", "agents", "printed"), ERLANG_C_TABLE)
def test_erlang_c_matches_the_printed_table(traffic: float, agents: int, printed: float) -> None:
    assert erlang.erlang_c(traffic, agents) == pytest.approx(printed, abs=5e-4)


def test_the_textbook_example_needs_fourteen_agents_for_80_in_20() -> None:
    """The worked example of the Erlang C tables: 100 calls in 30 minutes, 3 minutes each, 80 %
    answered in 20 s. That is 10 erlangs; 13 agents give 79.6 % (just short), 14 give 88.8 % with
    an average speed of answer of 7.8 s."""
    target = erlang.Target(service_level=0.8, seconds=20, max_occupancy=1.0)
    figures = erlang.agents_for_calls(rate=100 / 1800, aht=180, target=target)
    assert figures.agents == 14
    assert figures.service_level == pytest.approx(
        1 - 0.1741 * math.exp(-(14 - 10) * 20 / 180), abs=1e-3
    )
    assert figures.average_speed_of_answer == pytest.approx(7.8, abs=0.05)
    below = erlang.erlang_c_performance(rate=100 / 1800, aht=180, agents=13, target_seconds=20)
    assert below.service_level == pytest.approx(0.796, abs=1e-3)


def test_occupancy_caps_staffing() -> None:
    target = erlang.Target(service_level=0.5, seconds=60, max_occupancy=0.8)
    figures = erlang.agents_for_calls(rate=40 / 900, aht=450, target=target)
    assert figures.agents >= math.ceil(40 / 900 * 450 / 0.8)


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    c = erlang.erlang_c_performance(rate=100 / 1800, aht=180, agents=12, target_seconds=20)
    a = erlang.erlang_a_performance(
        rate=100 / 1800, aht=180, patience=1e9, agents=12, target_seconds=20
    )
    assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-4)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-3)
    assert a.abandon_probability == pytest.approx(0, abs=1e-6)


def test_erlang_a_with_patience_equal_to_handle_time_is_an_infinite_server_queue() -> None:
    """With θ = μ every caller leaves at the same rate whether served or not: the number in the
    system is Poisson(A), exactly."""
    rate, aht, agents = 0.05, 200.0, 9
    traffic = rate * aht
    figures = erlang.erlang_a_performance(
        rate=rate, aht=aht, patience=aht, agents=agents, target_seconds=30
    )
    assert figures.wait_probability == pytest.approx(poisson.sf(agents - 1, traffic), abs=1e-6)
    queue = sum((k - agents) * poisson.pmf(k, traffic) for k in range(agents, 200))
    assert figures.abandon_probability == pytest.approx(queue / aht / rate, abs=1e-6)


def _simulate(
    rate: float, aht: float, patience: float, agents: int, target: float, calls: int = 60_000
) -> tuple[float, float]:
    """FCFS M/M/n+M by discrete events: (answered within target / offered, abandoned share)."""
    rng = random.Random(11)
    free_at = [0.0] * agents
    heapq.heapify(free_at)
    now = answered = abandoned = 0.0
    # With FCFS and exponential patience, a caller is answered at the time the first agent frees
    # up after everyone ahead who stays has been answered: track agents' next free times.
    for _ in range(calls):
        now += rng.expovariate(rate)
        gives_up = now + rng.expovariate(1 / patience)
        start = max(now, free_at[0])
        if start > gives_up:
            abandoned += 1
            continue
        heapq.heapreplace(free_at, start + rng.expovariate(1 / aht))
        answered += start - now <= target
    return answered / calls, abandoned / calls


def test_erlang_a_agrees_with_a_simulation() -> None:
    rate, aht, patience, agents, target = 1 / 12, 240.0, 90.0, 20, 20.0
    figures = erlang.erlang_a_performance(
        rate=rate, aht=aht, patience=patience, agents=agents, target_seconds=target
    )
    level, abandons = _simulate(rate, aht, patience, agents, target)
    assert figures.service_level == pytest.approx(level, abs=0.015)
    assert figures.abandon_probability == pytest.approx(abandons, abs=0.01)


def test_patience_lowers_the_staffing_erlang_c_asks_for() -> None:
    target = erlang.Target(service_level=0.8, seconds=20)
    c = erlang.agents_for_calls(rate=1 / 6, aht=300, target=target)
    a = erlang.agents_for_calls(rate=1 / 6, aht=300, target=target, patience=60)
    assert a.agents <= c.agents


def test_written_channels_are_workload_over_concurrency() -> None:
    # 60 emails in 15 minutes, 6 minutes each, 3 at a time, 85 % occupancy: 60*360/900/3/0.85
    assert erlang.agents_for_written(rate=60 / 900, aht=360, concurrency=3) == pytest.approx(
        60 * 360 / 900 / 3 / 0.85
    )
    assert erlang.agents_for_written(rate=0, aht=360, concurrency=3) == 0


def test_shrinkage_grosses_up() -> None:
    assert erlang.with_shrinkage(14, 0.3) == 20
    assert erlang.with_shrinkage(0, 0.3) == 0
