"""`switchboard status [--watch] [--json]`: the whole centre on one screen.

Per service: health (its /healthz), consumer lag (end offsets minus the group's committed offsets,
over the topics it consumes), outbox backlog and messages handled (from its /metrics), and rows its
own loops set aside (from the database); per topic: dead letters waiting. A service with anything
set aside is not "ok": something it was asked to do has not been done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.table import Table

from switchboard.cli.services import SERVICES, subscriptions
from switchboard.common import setaside
from switchboard.common.broker import consumer_group
from switchboard.common.db import Database
from switchboard.common.offsets import Offsets
from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY


@dataclass
class ServiceStatus:
    name: str
    health: str
    consumer_lag: int | None = None
    """Messages waiting on the service's partitions (end offset minus committed offset)."""
    partitions_ahead: int = 0
    """Partitions whose committed offset is past the end offset the broker reports: on Apache Kafka,
    the broker lost messages. Not counted on the embedded broker (`lag_of`)."""
    outbox_backlog: float | None = None
    handled: float | None = None
    set_aside: int | None = None
    """Rows its own loops (outbox, deliveries, timers) gave up on: `switchboard dlq set-aside`."""


@dataclass
class CentreStatus:
    services: list[ServiceStatus]
    dead_letters: dict[str, int] = field(default_factory=dict)
    broker: str = "ok"
    database: str = "ok"


async def _service(client: httpx.AsyncClient, settings: Settings, name: str) -> ServiceStatus:
    base = settings.base_url(name)
    try:
        health = await client.get(base + "/healthz")
        status = ServiceStatus(
            name, "ok" if health.status_code == 200 else f"unhealthy ({health.status_code})"
        )
        metrics = (await client.get(base + "/metrics")).text
    except httpx.HTTPError as error:
        return ServiceStatus(name, f"down ({type(error).__name__})")
    for family in text_string_to_metric_families(metrics):
        if family.name == "switchboard_outbox_backlog":
            status.outbox_backlog = sum(s.value for s in family.samples)
        if family.name == "switchboard_messages_handled":
            status.handled = sum(s.value for s in family.samples if s.name.endswith("_total"))
    return status


def lag_of(behind: Iterable[int], *, end_reads_low: bool) -> tuple[int, int]:
    """(messages waiting, partitions ahead of the broker's end) from each partition's end offset
    minus its committed offset. `end_reads_low`: the embedded broker (Tansu 0.6) reports a
    partition's end as the start of its last produced batch + 1 (measured), so after a
    multi-record batch a consumer that has read it all looks ahead of the end; that says nothing
    there, and was shown in red after every `switchboard demo`."""
    behind = list(behind)
    ahead = 0 if end_reads_low else sum(1 for n in behind if n < 0)
    return sum(max(0, n) for n in behind), ahead


async def _kafka(settings: Settings, services: list[ServiceStatus]) -> dict[str, int]:
    """Fills in each service's consumer lag; returns dead letters per topic."""
    offsets = Offsets(settings.kafka_bootstrap)
    await offsets.start()
    try:
        dlq = {topic.dlq: topic.name for topic in REGISTRY}
        held = await offsets.held(await offsets.partitions(dlq))
        dead_letters: dict[str, int] = {}
        for partition, count in held.items():
            topic = dlq[partition.topic]
            dead_letters[topic] = dead_letters.get(topic, 0) + count
        consumed = {
            consumer_group(status.name): [t.name for t in subscriptions(status.name).topics]
            for status in services
        }
        lags = await offsets.lags({group: topics for group, topics in consumed.items() if topics})
        for status in services:
            if consumed[consumer_group(status.name)]:
                behind = lags[consumer_group(status.name)].values()
                status.consumer_lag, status.partitions_ahead = lag_of(
                    behind, end_reads_low=settings.on_embedded_broker
                )
        return dead_letters
    finally:
        await offsets.stop()


async def collect(settings: Settings) -> CentreStatus:
    async with httpx.AsyncClient(timeout=3) as client:
        services = list(
            await asyncio.gather(*(_service(client, settings, name) for name in SERVICES))
        )
    status = CentreStatus(services)
    try:
        status.dead_letters = await asyncio.wait_for(_kafka(settings, services), 15)
    except Exception as error:
        status.broker = f"unreachable ({type(error).__name__})"
    try:
        held = await asyncio.wait_for(_set_aside(settings), 15)
    except Exception as error:
        status.database = f"unreachable ({type(error).__name__})"
    else:
        for service in services:
            service.set_aside = held.get(service.name, 0)
            if service.set_aside and service.health == "ok":
                service.health = "attention (rows set aside)"
    return status


async def _set_aside(settings: Settings) -> dict[str, int]:
    held: dict[str, int] = {}
    for url in settings.database_urls:
        db = Database(url)
        try:
            async with db.reader() as session:
                held.update(await setaside.counts(session))
        finally:
            await db.dispose()
    return held


def as_dict(status: CentreStatus) -> dict[str, Any]:
    return asdict(status)


def table(status: CentreStatus, settings: Settings) -> Table:
    view = Table(title=f"Switchboard — broker {settings.kafka_bootstrap}: {status.broker}")
    columns = ("service", "health", "consumer lag", "outbox backlog", "set aside", "handled")
    for column in columns:
        view.add_column(column, justify="left" if column in ("service", "health") else "right")
    for service in status.services:
        lag = _number(service.consumer_lag)
        if service.partitions_ahead:
            lag += f" [red]({service.partitions_ahead} partitions ahead of the broker's end)[/red]"
        view.add_row(
            service.name,
            service.health if service.health == "ok" else f"[red]{service.health}[/red]",
            lag,
            _number(service.outbox_backlog),
            _number(service.set_aside)
            if not service.set_aside
            else f"[red]{service.set_aside}[/red]",
            _number(service.handled),
        )
    waiting = {topic: count for topic, count in status.dead_letters.items() if count}
    view.caption = (
        "dead letters: " + ", ".join(f"{t} {c}" for t, c in waiting.items())
        if waiting
        else "no dead letters"
    )
    if status.database != "ok":
        view.caption += f"; database {status.database}"
    return view


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
