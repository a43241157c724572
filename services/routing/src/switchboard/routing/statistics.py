"""Each queue's answered and abandoned contacts of the last half hour, and the service figures
taken from them: service level over 15 and 30 minutes, average speed of answer, abandonment."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from switchboard.common.events.routing import QueueStatistics
from switchboard.routing.domain import QueueKey, QueueSpec
from switchboard.routing.lines import Lines

STATS_WINDOW = 30 * 60.0


@dataclass
class _Outcome:
    at: float
    answered: bool
    waited: float


class Outcomes:
    def __init__(self) -> None:
        self._by_queue: dict[QueueKey, deque[_Outcome]] = {}

    def record(self, queue: QueueKey, *, at: float, answered: bool, waited: float) -> None:
        self._by_queue.setdefault(queue, deque()).append(_Outcome(at, answered, waited))

    def service(self, queue: QueueSpec, now: float) -> dict[str, float | None]:
        outcomes = self._by_queue.get(queue.key, deque())
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


def queue_statistics(
    queues: dict[QueueKey, QueueSpec],
    lines: Lines,
    outcomes: Outcomes,
    staffed: dict[QueueKey, list[int]],
    now: float,
) -> list[tuple[str, QueueStatistics]]:
    """Each queue's figures now, with its tenant (`staffed`: its agents available and on a
    contact)."""
    oldest: dict[QueueKey, float] = {}
    for contact in lines.waiting.values():
        oldest[contact.home] = min(oldest.get(contact.home, now), contact.enqueued_at)
    return [
        (
            key[0],
            QueueStatistics(
                queue_id=key[1],
                waiting=lines.count(key),
                longest_wait_seconds=round(now - oldest.get(key, now), 3),
                agents_available=staffed[key][0],
                agents_on_contact=staffed[key][1],
                **outcomes.service(queue, now),
            ),
        )
        for key, queue in sorted(queues.items())
    ]
