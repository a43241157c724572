"""The publisher: re-measures each tenant's day and each rostered agent's adherence, a tenant at
once when one of its agents' states or its roster changes and every tenant every
`workforce_refresh_seconds`, and publishes what changed: `workforce.intraday`,
`workforce.adherence`, and a `supervisor.alert` to the team leaders when an agent has been out of
adherence longer than the tenant's grace."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import zlib
from datetime import datetime, timedelta

import structlog

from switchboard.common.envelope import Envelope
from switchboard.common.events.routing import SupervisorAlert
from switchboard.common.events.workforce import AdherenceChanged
from switchboard.common.runtime import Transaction
from switchboard.workforce import adherence, demo, intraday, store
from switchboard.workforce.context import Workforce
from switchboard.workforce.planning import Calendar

log = structlog.get_logger("switchboard.workforce")


async def run(context: Workforce) -> None:
    """Rounds over every tenant on the period, and over the tenants that changed in between,
    however often something changes (a busy tenant does not hold back the others' rounds)."""
    looked_at: set[str] = set()
    every = context.settings.workforce_refresh_seconds
    next_round = time.monotonic()
    while True:
        await _seed_demo(context, looked_at)
        tenants: set[str] | None = context.take_changed()
        if time.monotonic() >= next_round:
            tenants, next_round = None, time.monotonic() + every
        try:
            await refresh(context, tenants)
        except Exception as error:  # the database away: the next round catches up
            log.warning("workforce refresh failed; the next one retries", error=repr(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(context.changed.wait(), max(0.0, next_round - time.monotonic()))


async def _seed_demo(context: Workforce, looked_at: set[str]) -> None:
    """The demo's workforce for each tenant not looked at yet (a read finds whether there is one:
    most rounds have none, and need no write transaction)."""
    try:
        started = time.monotonic()
        async with context.runtime.db.reader() as session:
            tenants = {row.tenant_id for row in await store.tenants(session)}
        if tenants <= looked_at:
            return
        attempt = set(looked_at)  # kept only if the transaction commits
        async with context.runtime.transaction() as tx:
            seeded = await demo.seed(tx, context.clock.now(), looked_at=attempt)
        looked_at |= attempt
        if seeded:
            log.info(
                "demo workforce seeded",
                tenants=seeded,
                seconds=round(time.monotonic() - started, 1),
            )
    except Exception as error:  # the demo's extras only: the service works without them
        log.warning("demo workforce not seeded", error=repr(error))


REFRESH_LOCK = zlib.crc32(b"workforce:refresh")


async def refresh(context: Workforce, tenants: set[str] | None = None) -> None:
    """One round over `tenants` (every tenant when None). On PostgreSQL replicas take turns (a
    transaction's advisory lock): each round starts from what the last one published, so no
    change or alert goes twice."""
    now = context.clock.now()
    async with context.runtime.transaction() as tx:
        if not await store.take_turn(tx.session, key=REFRESH_LOCK):
            return  # another replica is refreshing now
        for row in await store.tenants(tx.session):
            if tenants is None or row.tenant_id in tenants:
                await _tenant(tx, context, Calendar.of(row), now)


async def _tenant(tx: Transaction, context: Workforce, cal: Calendar, now: datetime) -> None:
    day = cal.local(now).date()
    picture = await intraday.picture(tx.session, cal, day, now, context.requirements)
    if await store.changed(
        tx.session, key=f"intraday/{cal.tenant_id}", digest=_digest(picture.model_dump_json())
    ):
        await tx.emit(Envelope.first(picture, tenant_id=cal.tenant_id, aggregate_id=cal.tenant_id))
    grace = timedelta(minutes=cal.config.adherence_grace_minutes)
    for item in await intraday.adherence_today(tx.session, cal, day, now):
        agent, figures = item.agent, item.figures
        report = AdherenceChanged(
            agent_id=agent.agent_id,
            team=agent.team,
            day=day,
            expected=figures.expected_now,
            actual=figures.actual_now,
            out_since=figures.out_since,
            adherence=_round(figures.adherence),
            conformance=_round(figures.conformance),
            scheduled_seconds=round(figures.scheduled_seconds),
            adherent_seconds=round(figures.adherent_seconds),
        )
        essence = report.model_dump_json(exclude={"scheduled_seconds", "adherent_seconds"})
        if await store.changed(
            tx.session, key=f"adherence/{agent.agent_id}", digest=_digest(essence)
        ):
            await tx.emit(
                Envelope.first(report, tenant_id=cal.tenant_id, aggregate_id=agent.agent_id)
            )
        out_since = figures.out_since
        if out_since is not None and adherence.alert_due(figures, now, grace, agent.alerted_for):
            agent.alerted_for = out_since
            tx.session.add(agent)
            minutes = int((now - out_since).total_seconds() // 60)
            alert = SupervisorAlert(
                kind="out_of_adherence",
                agent_id=agent.agent_id,
                message=f"{agent.name} is {figures.actual_now} but rostered "
                f"{figures.expected_now}, for {minutes} minutes",
            )
            await tx.emit(
                Envelope.first(alert, tenant_id=cal.tenant_id, aggregate_id=cal.tenant_id)
            )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
