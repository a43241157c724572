"""The demo centre's workforce: weeks of generated history (`demo_history_weeks`), a forecast from
it and a published roster for this week, so the supervisor's view is not empty on first start.
Applied once per tenant: a tenant that already has a forecast is left as it is."""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.broker import consumer_group
from switchboard.common.centre import CentreConfig
from switchboard.common.runtime import Transaction
from switchboard.workforce import domain, planning, samples, store

DAILY_CONTACTS = {"phone": 40.0, "email": 18.0}
"""A small centre's day, per queue and channel, before the weekday profile."""
SOLVE_SECONDS = 5.0


async def seed(session: AsyncSession, centre: CentreConfig, now: datetime) -> None:
    for tenant in centre.tenants:
        weeks = tenant.workforce.demo_history_weeks
        if not weeks or await store.latest_forecast(session, tenant_id=tenant.id):
            continue
        cal = await planning.calendar(session, tenant.id)
        assert cal is not None, "apply_centre runs first"
        today = cal.local(now).date()
        for number, queue in enumerate(tenant.queues):
            for channel, daily in DAILY_CONTACTS.items():
                history = samples.history(
                    end=today, weeks=weeks, daily=daily / (number + 1), opening=cal.opening,
                    interval_minutes=cal.config.interval_minutes, holidays=cal.holidays,
                    seed=zlib.crc32(f"{queue.id}/{channel}".encode()),
                )  # fmt: skip
                rows = [_row(tenant.id, queue.id, channel, cal.utc(slot), f)
                        for slot, f in history.items() if f.offered]  # fmt: skip
                await store.add_history(session, rows=rows)
        run = await planning.make_forecast(session, cal, start=today)
        await session.flush()
        roster_row, _ = await planning.make_roster(session, cal, run,
                                                   week_start=domain.week_of(today),
                                                   solve_seconds=SOLVE_SECONDS)  # fmt: skip
        await session.flush()
        tx = Transaction(session, consumer=consumer_group("workforce"), producer="workforce")
        await planning.publish(tx, cal, roster_row)


def _row(tenant_id: str, queue_id: str, channel: str, slot: datetime,
         figures: domain.Figures) -> store.IntervalStat:  # fmt: skip
    return store.IntervalStat(
        tenant_id=tenant_id, queue_id=queue_id, channel=channel, slot=slot,
        offered=figures.offered, handled=figures.handled, abandoned=figures.abandoned,
        answered_in_target=figures.answered_in_target, wait_seconds=figures.wait_seconds,
        wrapped=figures.wrapped, handle_seconds=figures.handle_seconds,
    )  # fmt: skip
