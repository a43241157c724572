"""The timer loop: fires every timer whose time has come, a batch per transaction (the timers are
deleted in the transaction that emits what they do), then sleeps until the next is due — at most
a tick, so a timer fires within a tick of its time, and is woken early when a sooner one is
scheduled. Replicas on PostgreSQL share the work (`SKIP LOCKED`).

A batch that fails (not for the database's sake) is fired again one timer at a time, each in its
own transaction; a timer that keeps failing is set aside with the reason
(switchboard.common.setaside), so every other promise is still kept on time."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge

from switchboard.common import setaside
from switchboard.common.clock import GAUGE_SECONDS, Clock, DueLoop, Every
from switchboard.common.delivery import classify
from switchboard.common.envelope import aware
from switchboard.common.runtime import Runtime
from switchboard.escalation import coaching, promises, store


class Timers:
    def __init__(self, runtime: Runtime, clock: Clock, *, tick: float, batch: int) -> None:
        self.runtime, self.clock, self.batch = runtime, clock, batch
        self.loop = DueLoop(clock, tick=tick, name="escalation timers")
        self.gauges = Every(GAUGE_SECONDS)
        self.attempts = setaside.Attempts()
        self.set_aside = setaside.counter(runtime.metrics)
        self.pending = Gauge(
            "switchboard_escalation_timers_pending", "Timers scheduled", registry=runtime.metrics
        )
        self.overdue = Gauge(
            "switchboard_escalation_timers_overdue",
            "Timers past their time, not yet fired",
            registry=runtime.metrics,
        )
        self.fired = Gauge(
            "switchboard_escalation_timers_fired",
            "Timers fired since this process started",
            registry=runtime.metrics,
        )

    def wake(self, at: datetime) -> None:
        """A timer was scheduled for `at`: wake the loop if it would otherwise look too late. It
        looks again within a tick anyway, so a timer due later needs no wake-up (and no write
        transaction of the loop's for every contact queued)."""
        if (aware(at) - self.clock.now()).total_seconds() < self.loop.tick:
            self.loop.wake()

    async def fire_due(self) -> int:
        """Fire one batch of due timers; how many were due."""
        now = self.clock.now()
        try:
            due = await self._fire(now)
        except Exception as error:
            if classify(error) == "transient":
                raise
            async with self.runtime.db.reader() as session:
                due = [
                    t.timer_id for t in await store.due_timers(session, now=now, limit=self.batch)
                ]
            self.fired.inc(
                await setaside.one_by_one(
                    due, lambda ref: self._fire(now, only=ref), self._set_aside, self.attempts
                )
            )
            return len(due)
        self.fired.inc(len(due))
        return len(due)

    async def _fire(self, now: datetime, *, only: str | None = None) -> list[str]:
        async with self.runtime.transaction() as tx:
            due = await store.due_timers(tx.session, now=now, limit=self.batch)
            if only is not None:
                due = [timer for timer in due if timer.timer_id == only]
            if due:
                batch = await store.load_for(tx.session, timers=due)
                await promises.fire(tx, batch, now)
                await coaching.fire(tx, batch)
                await store.delete_timers(tx.session, timers=due)
        return [timer.timer_id for timer in due]

    async def _set_aside(self, timer_id: str, error: BaseException) -> None:
        async with self.runtime.db.session() as session:
            timer = await session.get(store.Timer, timer_id)
            if timer is not None:
                await setaside.set_aside(
                    session,
                    service="escalation",
                    loop="escalation.timer",
                    ref=timer_id,
                    error=error,
                    attempts=self.attempts.count(timer_id),
                    row=timer,
                )
        self.set_aside.labels(loop="escalation.timer").inc()

    async def _more_due(self) -> bool:
        return await self.fire_due() == self.batch

    async def _upcoming(self) -> datetime | None:
        async with self.runtime.db.reader() as session:
            upcoming = await store.next_fire_at(session)
            if self.gauges.due():
                total, overdue = await store.pending(session, now=self.clock.now())
                self.pending.set(total)
                self.overdue.set(overdue)
        return upcoming

    async def run(self) -> None:
        await self.loop.run(self._more_due, self._upcoming)
