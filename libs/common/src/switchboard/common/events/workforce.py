"""Events of workforce management: published schedules, adherence, and the intraday picture."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from switchboard.common.envelope import Payload


class ScheduledActivity(BaseModel):
    start: datetime
    end: datetime
    kind: Literal["work", "break", "lunch"]


class SchedulePublished(Payload):
    """An agent's rostered day, as published (an empty list: the day is off)."""

    event_type = "workforce.schedule"

    agent_id: str
    day: date
    roster_id: str
    activities: list[ScheduledActivity] = Field(max_length=50)
    leave: str | None = None
    """Why the agent is off that day, when it is leave."""


class AdherenceChanged(Payload):
    """An agent's adherence today, re-measured when their state or their schedule moves on."""

    event_type = "workforce.adherence"

    agent_id: str
    team: str | None = None
    day: date
    expected: Literal["available", "break", "offline"]
    actual: Literal["available", "break", "offline"]
    out_since: datetime | None = None
    adherence: float | None = None
    """0..1 over the scheduled time so far (None before the shift starts)."""
    conformance: float | None = None
    scheduled_seconds: float = 0
    adherent_seconds: float = 0


class IntradayInterval(BaseModel):
    start: datetime
    forecast: float
    actual: int | None = None
    """Contacts offered (None: the interval has not begun)."""
    required: int
    """Agents the service level needs on the queues."""
    to_schedule: int
    """`required` grossed up for shrinkage."""
    scheduled: int
    """Agents rostered to work (not on a break or lunch)."""
    logged_in: float | None = None
    """Agents signed in (available or on a break), averaged over the interval."""


class IntradayPicture(Payload):
    """A tenant's day, interval by interval: forecast against actual, requirement against rostered
    against signed in."""

    event_type = "workforce.intraday"

    day: date
    interval_minutes: int
    intervals: list[IntradayInterval] = Field(max_length=200)
    forecast_wape: float | None = None
    forecast_mape: float | None = None
