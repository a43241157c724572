"""The desktop's view of the floor: agents' states, queue figures, supervisors' alerts, and the
workforce's schedules, adherence and intraday picture."""

from __future__ import annotations

from switchboard.common import prefetch, topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.events.routing import (
    QueueStatistics,
    SupervisorAlert,
)
from switchboard.common.events.workforce import (
    AdherenceChanged,
    IntradayPicture,
    SchedulePublished,
)
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Handlers
from switchboard.desktop import floor_store, rosters, store
from switchboard.desktop.delivery import tell

handlers = Handlers()


@handlers.on(topics.AGENT_STATE)
async def on_agent_state(event: Envelope[AgentStateChanged], tx: Transaction) -> None:
    change = event.payload
    agent = await prefetch.find(tx.session, store.DesktopAgent, change.agent_id)
    if agent is None:
        return
    agent.state, agent.state_reason, agent.state_since = (
        change.state,
        change.reason,
        event.occurred_at,
    )
    tx.session.add(agent)
    data = {"state": change.state, "reason": change.reason, "source": change.source}
    await tell(tx, change.agent_id, "state", data)


@handlers.on(topics.QUEUE_STATS)
async def on_queue_stats(event: Envelope[QueueStatistics], tx: Transaction) -> None:
    stats = event.payload
    row = await tx.session.get(floor_store.QueueFigures, (event.tenant_id, stats.queue_id))
    if row is not None and row.updated_at >= event.occurred_at:
        return  # an older figure delivered late
    row = row or floor_store.QueueFigures(
        tenant_id=event.tenant_id, queue_id=stats.queue_id, figures={}
    )
    row.figures = stats.model_dump(mode="json")
    row.updated_at = event.occurred_at
    tx.session.add(row)


@handlers.on(topics.SUPERVISOR_ALERT)
async def on_supervisor_alert(event: Envelope[SupervisorAlert], tx: Transaction) -> None:
    alert = event.payload
    for supervisor in await store.supervisors_of(tx.session, tenant_id=event.tenant_id):
        await tell(tx, supervisor, "alert", alert.model_dump(mode="json"))


@handlers.on(topics.WORKFORCE_SCHEDULE)
async def on_schedule(event: Envelope[SchedulePublished], tx: Transaction) -> None:
    """A published day of the agent's roster: kept, and shown on their desktop at once."""
    day = event.payload
    await tx.session.merge(
        rosters.AgentSchedule(
            agent_id=day.agent_id,
            day=day.day,
            roster_id=day.roster_id,
            leave=day.leave,
            activities=[a.model_dump(mode="json") for a in day.activities],
            published_at=event.occurred_at,
        )
    )
    await tell(tx, day.agent_id, "schedule", day.model_dump(mode="json"))


@handlers.on(topics.WORKFORCE_ADHERENCE)
async def on_adherence(event: Envelope[AdherenceChanged], tx: Transaction) -> None:
    report = event.payload
    await rosters.keep_latest(
        tx.session,
        row=rosters.AgentAdherence(
            agent_id=report.agent_id,
            tenant_id=event.tenant_id,
            figures=report.model_dump(mode="json"),
            measured_at=event.occurred_at,
        ),
    )


@handlers.on(topics.WORKFORCE_INTRADAY)
async def on_intraday(event: Envelope[IntradayPicture], tx: Transaction) -> None:
    await rosters.keep_latest(
        tx.session,
        row=rosters.TenantDay(
            tenant_id=event.tenant_id,
            picture=event.payload.model_dump(mode="json"),
            measured_at=event.occurred_at,
        ),
    )
