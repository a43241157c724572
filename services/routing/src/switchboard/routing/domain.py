"""Routing decisions, free of I/O: which queue a new contact waits in, or why it must not be routed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Contacts written by machines are recorded but never offered to an agent (no mail loops).
NEVER_ROUTED_FLAGS = ("auto_reply", "bulk", "null_return_path")


@dataclass(frozen=True)
class QueueRule:
    queue_id: str
    priority: int
    is_default: bool


@dataclass(frozen=True)
class Route:
    queue_id: str
    priority: int
    reason: str


@dataclass(frozen=True)
class DoNotRoute:
    reason: str


def classify(
    *, channel: str, flags: Sequence[str], queues: Sequence[QueueRule]
) -> Route | DoNotRoute:
    automated = [f for f in flags if f in NEVER_ROUTED_FLAGS]
    if automated:
        return DoNotRoute(f"automated message ({', '.join(automated)}): recorded, not offered")
    defaults = [q for q in queues if q.is_default]
    if not defaults:
        return DoNotRoute("the tenant has no default queue configured")
    queue = defaults[0]
    return Route(queue.queue_id, queue.priority, f"{channel} contact to the tenant's default queue")
