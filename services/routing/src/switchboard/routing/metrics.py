"""Routing's queue figures on `/metrics`, refreshed with each `queue.stats` round."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from switchboard.common.events.routing import QueueStatistics


class QueueGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["tenant", "queue"]
        self.waiting = Gauge(
            "switchboard_queue_waiting", "Contacts waiting in the queue", labels, registry=registry
        )
        self.longest_wait = Gauge(
            "switchboard_queue_longest_wait_seconds",
            "How long the queue's longest-waiting contact has waited",
            labels,
            registry=registry,
        )
        self.service_level = Gauge(
            "switchboard_queue_service_level",
            "Share of the queue's contacts answered within its target, over the window",
            [*labels, "window"],
            registry=registry,
        )
        self.agents = Gauge(
            "switchboard_queue_agents",
            "Agents of the queue, by state (available, on_contact)",
            [*labels, "state"],
            registry=registry,
        )

    def update(self, figures: list[tuple[str, QueueStatistics]]) -> None:
        for tenant, stats in figures:
            key = {"tenant": tenant, "queue": stats.queue_id}
            self.waiting.labels(**key).set(stats.waiting)
            self.longest_wait.labels(**key).set(stats.longest_wait_seconds)
            self.agents.labels(**key, state="available").set(stats.agents_available)
            self.agents.labels(**key, state="on_contact").set(stats.agents_on_contact)
            for window, value in (
                ("15m", stats.service_level_15m),
                ("30m", stats.service_level_30m),
            ):
                if value is not None:
                    self.service_level.labels(**key, window=window).set(value)
