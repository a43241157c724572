"""A tenant's teams: field technicians and how they are dispatched, the workforce's planning
and leave, and the quality programme's forms and scorecards (part of the centre's configuration,
`switchboard.common.centre`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchboard.common.events.intake import Channel
from switchboard.common.promises_config import Weekday

SHIFT_CLOCK = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


class ShiftConfig(BaseModel):
    """A technician's working time on some weekdays, in the tenant's time zone (`24:00`: the end
    of the day)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    open: str = Field(default="07:00", pattern=SHIFT_CLOCK)
    close: str = Field(default="17:00", pattern=SHIFT_CLOCK)


class Location(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TechnicianConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    name: str
    tenant: str
    skills: list[str] = []
    shifts: list[ShiftConfig] = [ShiftConfig()]
    home: Location
    """Where they start from (until the field reports where they are)."""
    teams: list[str] = []
    medium: Literal["email", "sms", "message_service", "phone", "fax"] = "sms"
    address: str = Field(min_length=1, max_length=320)
    """Where the medium reaches them: an email address, a phone or fax number, a handle."""


class ApprovalConfig(BaseModel):
    """Which messages to field staff need approval, and who approves."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = ["safety"]
    broadcast_over: int = Field(default=10, ge=1)
    """A message to more people than this needs approval."""
    approvers: list[str] = []


class DispatchConfig(BaseModel):
    """How the tenant deploys field staff (see services/dispatch/README.md)."""

    model_config = ConfigDict(extra="forbid")

    road_factor: float = Field(default=1.3, ge=1, le=3)
    speed_kmh: float = Field(default=40, gt=0, le=130)
    confirm_within_minutes: int = Field(default=10, ge=1)
    on_confirm_timeout: Literal["redespatch", "manual"] = "redespatch"
    max_despatch_attempts: int = Field(default=3, ge=1)
    preempt_within_km: float = Field(default=25, ge=0)
    eta_reply_minutes: int = Field(default=10, ge=1)
    chase_after_minutes: int = Field(default=30, ge=1)
    max_chases: int = Field(default=2, ge=0)
    approval: ApprovalConfig = ApprovalConfig()


class LeaveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str
    start: date
    end: date
    """The last day of leave (inclusive)."""
    reason: str = Field(default="annual leave", max_length=200)


class WorkforceConfig(BaseModel):
    """Forecasts, staffing, rosters and adherence (services/workforce). Opening hours and holidays
    are the tenant's calendar (`escalation.hours`, `escalation.holidays`)."""

    model_config = ConfigDict(extra="forbid")

    interval_minutes: Literal[15, 30] = 15
    shrinkage_percent: int = Field(default=30, ge=0, le=80)
    """Rostered time lost to absence, meetings and training (breaks and lunches are rostered)."""
    max_occupancy_percent: int = Field(default=85, ge=50, le=100)
    forecast_weeks: int = Field(default=2, ge=1, le=12)
    holdout_days: int = Field(default=7, ge=1, le=28)
    """The last days of history held back to measure the forecast's error."""
    concurrency: dict[Channel, int] = {"email": 3, "letter": 3, "fax": 3}
    """Written contacts an agent works at once (voice is always one)."""
    adherence_grace_minutes: int = Field(default=5, ge=0, le=240)
    shift_minutes: list[int] = Field(default=[510, 240], min_length=1)
    """Shift lengths on site, lunch included."""
    start_step_minutes: Literal[15, 30, 60] = 30
    max_weekly_hours: float = Field(default=38, gt=0, le=80)
    max_days: int = Field(default=5, ge=1, le=7)
    min_rest_hours: float = Field(default=12, ge=0, le=48)
    leave: list[LeaveConfig] = []
    demo_history_weeks: int = Field(default=0, ge=0, le=26)
    """The demo centre only: seed this many weeks of generated history, a forecast and a roster."""


SCORECARD_TARGETS = {
    "average_handle_time": "lower",
    "after_call_work": "lower",
    "first_contact_resolution": "higher",
    "transfer_rate": "lower",
    "escalation_rate": "lower",
    "conversion_rate": "higher",
    "csat": "higher",
    "nps": "higher",
    "schedule_adherence": "higher",
    "quality_score": "higher",
    "data_entry_accuracy": "higher",
    "contacts_per_hour": "higher",
    "retention_save_rate": "higher",
}
"""The scorecard figures a tenant may set targets for, and which way is better."""


class QuestionConfig(BaseModel):
    """One question of a quality form: yes/no, or a scale from 0 to `scale_max`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    text: str = Field(min_length=1, max_length=500)
    kind: Literal["yes_no", "scale"] = "yes_no"
    scale_max: int = Field(default=5, ge=1, le=10)
    weight: float = Field(default=1.0, gt=0, le=100)
    auto_fail: bool = False
    """A "no" fails the whole evaluation, whatever else scored (a compliance breach)."""
    allow_na: bool = True

    @model_validator(mode="after")
    def _auto_fail_is_yes_no(self) -> QuestionConfig:
        if self.auto_fail and self.kind != "yes_no":
            raise ValueError(f"question {self.id}: only a yes/no question can auto-fail")
        return self


class FormSectionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    questions: list[QuestionConfig] = Field(min_length=1, max_length=50)


class QualityFormConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    sections: list[FormSectionConfig] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique_questions(self) -> QualityFormConfig:
        ids = [q.id for s in self.sections for q in s.questions]
        if len(ids) != len(set(ids)):
            raise ValueError(f"form {self.id}: question ids must be unique")
        return self


class QualityConfig(BaseModel):
    """The tenant's quality programme: evaluation forms, scorecard targets and what a wrap-up
    must carry."""

    model_config = ConfigDict(extra="forbid")

    forms: list[QualityFormConfig] = []
    targets: dict[str, float] = {}
    """Scorecard targets for every agent (`SCORECARD_TARGETS` names them)."""
    team_targets: dict[str, dict[str, float]] = {}
    """A team's own targets, over the tenant's."""
    required_wrapup: list[Literal["outcome", "notes"]] = ["outcome"]
    """A wrap-up without these counts against the agent's data-entry accuracy."""
    long_handle_seconds: int = Field(default=600, ge=1)
    """Sampling's "long handle time" filter."""
    low_csat: int = Field(default=2, ge=1, le=5)
    """Sampling's "low CSAT" filter: answers at or below this."""

    @model_validator(mode="after")
    def _known_targets(self) -> QualityConfig:
        for targets in (self.targets, *self.team_targets.values()):
            unknown = set(targets) - set(SCORECARD_TARGETS)
            if unknown:
                raise ValueError(f"unknown scorecard targets: {sorted(unknown)}")
        return self
