"""Staffing formulas: how many agents an interval needs to meet a queue's service level.

- Erlang C (M/M/n): callers wait as long as it takes. Traffic A = λ·AHT erlangs; the chance a
  caller waits is C(n, A) = n·B / (n - A·(1 - B)), with B the Erlang B blocking probability
  (computed by its stable recursion B(k) = A·B(k-1) / (k + A·B(k-1))); the service level within
  t seconds is 1 - C·e^(-(n - A)·t/AHT).
- Erlang A (M/M/n+M): callers abandon after an exponential patience of mean 1/θ. Its stationary
  distribution is a birth-death chain (arrivals λ; departures min(k, n)·μ + max(k - n, 0)·θ),
  solved numerically and truncated where the tail is negligible. A caller who finds k ≥ n waits
  behind j = k - n others; the chance they are answered within t is
  Π_{i=0..j} (nμ + iθ)/(nμ + (i+1)θ) · P(Σ_{i=0..j} Exp(nμ + (i+1)θ) ≤ t), the second factor by
  uniformisation. The service level counts abandons against it (answered within t / offered).
- Written channels (email, letter, fax) are worked in the background, several at once: agents =
  workload / (concurrency · occupancy).

Every function here is pure and unit-tested against published tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_AGENTS = 5_000


def erlang_b(traffic: float, agents: int) -> float:
    """Erlang B: the chance all `agents` are busy (a blocked call is lost)."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(traffic: float, agents: int) -> float:
    """Erlang C: the chance a caller has to wait (1 when the agents cannot keep up)."""
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(traffic, agents)
    return agents * blocking / (agents - traffic * (1 - blocking))


@dataclass(frozen=True)
class Performance:
    """What a queue gets from `agents` agents in one interval."""

    agents: int
    service_level: float
    """Answered within the target / offered."""
    wait_probability: float
    average_speed_of_answer: float
    """Seconds, over every caller (those answered at once count as 0)."""
    abandon_probability: float
    occupancy: float


def erlang_c_performance(
    *, rate: float, aht: float, agents: int, target_seconds: float
) -> Performance:
    """`rate` callers a second, `aht` seconds each, with callers who never give up."""
    traffic = rate * aht
    if agents <= traffic:
        return Performance(agents, 0.0, 1.0, math.inf, 0.0, 1.0)
    waits = erlang_c(traffic, agents)
    level = 1 - waits * math.exp(-(agents - traffic) * target_seconds / aht)
    asa = waits * aht / (agents - traffic)
    return Performance(agents, level, waits, asa, 0.0, traffic / agents)


def erlang_a_performance(
    *, rate: float, aht: float, patience: float, agents: int, target_seconds: float
) -> Performance:
    """As `erlang_c_performance`, with callers who give up after `patience` seconds on average."""
    if rate <= 0:
        return Performance(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    mu, theta, n = 1 / aht, 1 / patience, agents
    states = _stationary(rate, mu, theta, n)
    waiting = states[n:]
    queue_length = float(np.dot(np.arange(len(waiting)), waiting))
    answered_in_time = float(states[:n].sum()) + float(
        np.dot(waiting, _answered_within(len(waiting), n * mu, theta, target_seconds))
    )
    abandon = theta * queue_length / rate
    busy = float(np.dot(np.minimum(np.arange(len(states)), n), states))
    return Performance(
        agents,
        service_level=min(1.0, answered_in_time),
        wait_probability=float(waiting.sum()),
        average_speed_of_answer=queue_length / rate,
        abandon_probability=abandon,
        occupancy=busy / n if n else 1.0,
    )


def _stationary(rate: float, mu: float, theta: float, n: int) -> np.ndarray:
    """The M/M/n+M chain's stationary probabilities of k = 0, 1, ... callers in the system."""
    logs = [0.0]
    k = 0
    while True:
        k += 1
        logs.append(logs[-1] + math.log(rate / (min(k, n) * mu + max(k - n, 0) * theta)))
        if k > n and (logs[-1] < max(logs) - 40 or k > n + 100_000):
            break
    weights = np.exp(np.array(logs) - max(logs))
    return np.asarray(weights / weights.sum())


def _answered_within(positions: int, service_rate: float, theta: float, t: float) -> np.ndarray:
    """For a caller with j = 0..positions-1 others ahead: the chance they are answered within `t`
    seconds, given they abandon at rate `theta` (see the module docstring)."""
    j = np.arange(positions)
    rates = service_rate + (j + 1) * theta
    tilt = np.cumprod(service_rate + j * theta) / np.cumprod(rates)
    uniform = float(rates[-1])
    advance = rates / uniform
    weights = _poisson_weights(uniform * t)
    steps = len(weights) - 1
    done = np.zeros(positions)  # P(absorbed within k uniformised steps | start at j)
    cdf = weights[0] * done
    for k in range(1, steps + 1):
        ahead = np.concatenate(([1.0], done[:-1]))
        done = advance * ahead + (1 - advance) * done
        cdf = cdf + weights[k] * done
    return np.asarray(tilt * cdf)


def _poisson_weights(mean: float) -> np.ndarray:
    """P(N = k) for k = 0 .. mean + 10 standard deviations (the rest is below 1e-20), in log
    space so a large mean does not underflow."""
    steps = math.ceil(mean + 10 * math.sqrt(mean) + 20)
    k = np.arange(steps + 1)
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(k[1:]))))
    with np.errstate(divide="ignore"):
        logs = (
            k * math.log(mean) - mean - log_factorial
            if mean > 0
            else np.where(k == 0, 0.0, -np.inf)
        )
    return np.asarray(np.exp(logs))


@dataclass(frozen=True)
class Target:
    """A queue's service-level target and the occupancy agents may be held to."""

    service_level: float
    """0..1: the share answered within `seconds`."""
    seconds: float
    max_occupancy: float = 0.85


def agents_for_calls(
    *, rate: float, aht: float, target: Target, patience: float | None = None
) -> Performance:
    """The fewest agents that meet `target` on a voice queue: Erlang A when the callers' patience
    is known (from observed abandonment), Erlang C otherwise. Never past `max_occupancy`."""
    if rate <= 0:
        return Performance(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    traffic = rate * aht
    n = max(1, math.ceil(traffic / target.max_occupancy))
    if patience is None:
        n = max(n, math.floor(traffic) + 1)
    while n <= MAX_AGENTS:
        if patience is None:
            figures = erlang_c_performance(
                rate=rate, aht=aht, agents=n, target_seconds=target.seconds
            )
        else:
            figures = erlang_a_performance(
                rate=rate, aht=aht, patience=patience, agents=n, target_seconds=target.seconds
            )
        if figures.service_level >= target.service_level:
            return figures
        n += 1
    raise ValueError(f"no staffing up to {MAX_AGENTS} agents meets the target")


def agents_for_written(
    *, rate: float, aht: float, concurrency: int, max_occupancy: float = 0.85
) -> float:
    """Agents for a written channel: the interval's workload, worked `concurrency` at a time. A
    fraction: written work waits, so an interval's written channels share agents before rounding."""
    if rate <= 0:
        return 0.0
    return rate * aht / (concurrency * max_occupancy)


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to roster so that `agents` are on the queue after absence, meetings and training
    (breaks and lunches are rostered explicitly, so they are not part of `shrinkage`)."""
    return math.ceil(agents / (1 - shrinkage)) if agents else 0
