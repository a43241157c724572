"""The demo centre's workforce: weeks of generated history (`demo_history_weeks`), a forecast from
it and a published roster for this week, so the supervisor's view is not empty on first start.
All three are anchored on this week's Monday, whatever the day: a forecast and roster from today
left a Sunday's roster with no shift at all (the demo centre is closed on Sundays), and nothing to
show until the next week.
Workforce applies it when it starts (off `switchboard up`'s path: the roster takes seconds), and to
a tenant onboarded later on its next round, once per tenant: a tenant that already has a forecast
is left as it is."""

from __future__ import annotations

import zlib
from datetime import datetime

from switchboard.common.runtime import Transaction
from switchboard.workforce import domain, planning, samples, store

DAILY_CONTACTS = {"phone": 40.0, "email": 18.0}
"""A small centre's day, per queue and channel, before the weekday profile."""
SOLVE_SECONDS = 10.0
"""Per phase of the solve. With two seconds, a busy machine (the test suite in three workers) left
the second phase of a whole week's roster without an answer, and the demo without a roster."""


async def seed(tx: Transaction, now: datetime, *, looked_at: set[str]) -> list[str]:
    """The tenants seeded now, of those not `looked_at` yet (each is added to it: a tenant
    onboarded while workforce runs is seeded on the next round)."""
    session = tx.session
    seeded = []
    for row in await store.tenants(session):
        if row.tenant_id in looked_at:
            continue
        looked_at.add(row.tenant_id)
        cal = planning.Calendar.of(row)
        weeks = cal.config.demo_history_weeks
        if not weeks or await store.latest_forecast(session, tenant_id=cal.tenant_id):
            continue
        week = domain.week_of(cal.local(now).date())
        for number, queue in enumerate(await store.queues(session, tenant_id=cal.tenant_id)):
            for channel, daily in DAILY_CONTACTS.items():
                history = samples.history(
                    end=week,
                    weeks=weeks,
                    daily=daily / (number + 1),
                    opening=cal.opening,
                    interval_minutes=cal.config.interval_minutes,
                    holidays=cal.holidays,
                    seed=zlib.crc32(f"{queue.queue_id}/{channel}".encode()),
                )
                rows = [
                    _row(cal.tenant_id, queue.queue_id, channel, cal.utc(slot), f)
                    for slot, f in history.items()
                    if f.offered
                ]
                await store.add_history(session, rows=rows)
        run = await planning.make_forecast(session, cal, start=week)
        await session.flush()
        roster_row, _ = await planning.make_roster(
            session, cal, run, week_start=week, solve_seconds=SOLVE_SECONDS
        )
        await session.flush()
        await planning.publish(tx, cal, roster_row)
        seeded.append(cal.tenant_id)
    return seeded


def _row(
    tenant_id: str, queue_id: str, channel: str, slot: datetime, figures: domain.Figures
) -> store.IntervalStat:
    return store.IntervalStat(
        tenant_id=tenant_id,
        queue_id=queue_id,
        channel=channel,
        slot=slot,
        offered=figures.offered,
        handled=figures.handled,
        abandoned=figures.abandoned,
        answered_in_target=figures.answered_in_target,
        wait_seconds=figures.wait_seconds,
        wrapped=figures.wrapped,
        handle_seconds=figures.handle_seconds,
    )
