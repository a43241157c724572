"""A tenant's hours and the promises kept in them: business hours, SLA clocks, the escalation
path, the complaint policy, and when callbacks are dialled (part of the centre's configuration,
`switchboard.common.centre`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.common.events.intake import Channel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class HoursConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    open: str = Field(default="08:00", pattern=CLOCK)
    close: str = Field(default="18:00", pattern=CLOCK)


DURATION = r"^[0-9]+[mhd]$"


class ClockConfig(BaseModel):
    """One promise: act `within` (`30m`, `4h`, `3d`) in business hours or calendar time; the
    clock stops on the first of `stops_on`."""

    model_config = ConfigDict(extra="forbid")

    within: str = Field(pattern=DURATION)
    measure: Literal["business", "calendar"] = "business"
    stops_on: list[Literal["human_reply", "assigned", "resolved"]] = Field(min_length=1)


class SlaPolicyConfig(BaseModel):
    """The service levels promised to the contacts it matches (the first matching policy wins;
    an empty list matches anything). A policy changed in the file becomes a new version: contacts
    keep the version they started under."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    queues: list[str] = []
    channels: list[Channel] = []
    min_priority: int | None = Field(default=None, ge=1, le=10)
    first_response: ClockConfig | None = None
    resolution: ClockConfig | None = None
    warn_at_percent: int = Field(default=75, ge=1, le=99)


class EscalationLevelConfig(BaseModel):
    """A rung of the escalation path: where a contact goes and who is told when it breaches."""

    model_config = ConfigDict(extra="forbid")

    name: str
    queue: str
    priority: int = Field(ge=1, le=10)
    notify: list[str] = []
    """Agent ids told of a breach at this level (their desktops)."""


class ComplaintPolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledge: ClockConfig = ClockConfig(
        within="1d", measure="business", stops_on=["human_reply"]
    )
    respond: ClockConfig = ClockConfig(within="30d", measure="calendar", stops_on=["resolved"])
    level: str | None = None
    """The escalation level a breached complaint goes to (default: the last, e.g. the complaints
    officer)."""


class EscalationConfig(BaseModel):
    """The tenant's promises: business hours and holidays, SLA policies, the escalation path,
    the complaint policy, and the grace a due follow-up has before it is escalated."""

    model_config = ConfigDict(extra="forbid")

    hours: list[HoursConfig] = [HoursConfig()]
    holidays: list[date] = []
    policies: list[SlaPolicyConfig] = []
    levels: list[EscalationLevelConfig] = []
    complaints: ComplaintPolicyConfig = ComplaintPolicyConfig()
    follow_up_grace: str = Field(default="15m", pattern=DURATION)


class CallbackConfig(BaseModel):
    """When and how often a customer who asked to be called back is tried."""

    model_config = ConfigDict(extra="forbid")

    hours: list[HoursConfig] = [
        HoursConfig(days=["mon", "tue", "wed", "thu", "fri"], open="08:00", close="20:00"),
        HoursConfig(days=["sat"], open="09:00", close="17:00"),
    ]
    """When callbacks are dialled (tenant time): a customer's request is still a call to them."""
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_after_minutes: int = Field(default=10, ge=1, le=24 * 60)
