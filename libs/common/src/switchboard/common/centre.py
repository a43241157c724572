"""The centre's configuration: tenants, where their contacts arrive, their queues and the channel
systems allowed to hand contacts in. Loaded from YAML (`config/demo-centre.yaml` is the demo centre);
each service applies the part it owns to its own tables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.common.catalogue_config import CatalogueConfig
from switchboard.common.events.intake import Channel


class Addresses(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] = []
    phone: list[str] = []
    fax: list[str] = []
    sms: list[str] = []
    """Numbers customers text."""
    chat: list[str] = []
    """Web chat entry points: the name a page's widget gives (`data-entry`), e.g. `acme-web`."""


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class RoutingStep(BaseModel):
    """After `after_seconds` of waiting a contact's requirements relax; it keeps its place in line."""

    model_config = ConfigDict(extra="forbid")

    after_seconds: int = Field(ge=0)
    drop_skills: list[str] = []
    min_proficiency: int | None = Field(default=None, ge=1, le=5)
    """Lower every remaining skill's floor to at most this."""
    add_groups: list[str] = []
    """Agents in these groups become eligible whatever their skills."""


class OverflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_seconds: int = Field(ge=0)
    to: list[str] = Field(min_length=1)
    """Queues whose agents may take the contact too: `queue` of this tenant or `tenant/queue` of
    a tenant whose agreement (`overflow_partners`) allows it."""


class HoursConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    open: str = Field(default="08:00", pattern=CLOCK)
    close: str = Field(default="18:00", pattern=CLOCK)


class ScriptConfig(BaseModel):
    """A queue's contact guide: how to open, what to know about the product, how to close."""

    model_config = ConfigDict(extra="forbid")

    greeting: str = ""
    notes: str = ""
    closing: str = ""


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str
    default: bool = False
    priority: int = Field(default=5, ge=1, le=10)
    service_level_percent: int = Field(default=80, ge=1, le=100)
    service_level_seconds: int = Field(default=20, gt=0)
    skills: dict[str, int] = {}
    """Required skills and their minimum proficiency (1-5); the first is the primary skill agents
    are ranked on."""
    steps: list[RoutingStep] = []
    overflow: OverflowConfig | None = None
    hours: list[HoursConfig] = []
    """When the queue is staffed; empty means always."""
    when_closed: str = "wait"
    """Outside hours: `wait` (written contacts wait for the morning), `reject`, or a queue id."""
    max_waiting: int | None = Field(default=None, ge=1)
    when_full: str = "reject"
    """What happens to a contact that finds the queue full: `reject` or a queue id."""
    offer_timeout_seconds: dict[Channel, int] = {}
    script: ScriptConfig | None = None
    """The contact guide the desktop shows agents on this queue's contacts."""

    @field_validator("skills")
    @classmethod
    def _proficiency(cls, skills: dict[str, int]) -> dict[str, int]:
        for skill, level in skills.items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill!r}: proficiency must be 1-5, not {level}")
        return skills


class RuleConfig(BaseModel):
    """Classification: the first rule whose every given condition matches picks the queue."""

    model_config = ConfigDict(extra="forbid")

    name: str
    queue: str
    priority: int | None = Field(default=None, ge=1, le=10)
    channel: list[Channel] = []
    ivr: list[str] = []
    destination: list[str] = []
    """DNIS (the number called) or the recipient address."""
    keywords: list[str] = []
    tier: list[str] = []
    language: list[str] = []


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    name: str
    tenants: list[str] = Field(min_length=1)
    skills: dict[str, int] = {}
    capacity: dict[Channel, int] = {
        "phone": 1,
        "email": 3,
        "letter": 3,
        "fax": 3,
        "chat": 2,
        "sms": 3,
        "walk_in": 1,
    }
    groups: list[str] = []
    extension: str | None = Field(default=None, pattern=r"^[0-9A-Za-z*#+._-]{1,32}$")
    """The agent's phone extension, where the telephony platform bridges their calls."""
    supervisor: bool = False
    """A team leader: the desktop shows them the wallboard of the tenants they serve."""
    team: str | None = Field(default=None, max_length=64)
    """The team the agent belongs to (adherence and scorecards are per team as well as per agent)."""
    quality_analyst: bool = False
    """Evaluates contacts against the tenant's quality forms and calibrates with other analysts."""

    @field_validator("skills")
    @classmethod
    def _proficiency(cls, skills: dict[str, int]) -> dict[str, int]:
        return QueueConfig._proficiency(skills)


class DncPolicyConfig(BaseModel):
    """How the Do Not Call gate treats the tenant's marketing."""

    model_config = ConfigDict(extra="forbid")

    exemption: (
        Literal["charity", "government", "political_party", "educational", "religious"] | None
    ) = None
    outsources_telemarketing: bool = False
    contract_dnc_clause: str | None = None
    wash_validity_days: int = Field(default=30, ge=1, le=365)


class RecordPolicyConfig(BaseModel):
    """How the record treats the tenant's contacts: KPI choices and retention (Privacy Act)."""

    model_config = ConfigDict(extra="forbid")

    abandons_count_against_service_level: bool = True
    short_abandon_seconds: int = Field(default=5, ge=0)
    """Callers who hang up within this long count neither as offered nor as abandoned."""
    retention_days: int = Field(default=7 * 365, ge=1)
    """Contacts older than this are de-identified."""


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
    "average_handle_time": "lower", "after_call_work": "lower", "first_contact_resolution": "higher",
    "transfer_rate": "lower", "escalation_rate": "lower", "conversion_rate": "higher",
    "csat": "higher", "nps": "higher", "schedule_adherence": "higher", "quality_score": "higher",
    "data_entry_accuracy": "higher", "contacts_per_hour": "higher", "retention_save_rate": "higher",
}  # fmt: skip
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


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str
    region: str = "AU"
    timezone: str = "Australia/Sydney"
    addresses: Addresses = Addresses()
    queues: list[QueueConfig] = []
    rules: list[RuleConfig] = []
    overflow_partners: list[str] = []
    """Tenants whose contacts this tenant's agents may take as overflow (the agreement)."""
    dnc: DncPolicyConfig = DncPolicyConfig()
    record: RecordPolicyConfig = RecordPolicyConfig()
    escalation: EscalationConfig = EscalationConfig()
    dispatch: DispatchConfig = DispatchConfig()
    workforce: WorkforceConfig = WorkforceConfig()
    quality: QualityConfig = QualityConfig()
    catalogue: CatalogueConfig = CatalogueConfig()
    callbacks: CallbackConfig = CallbackConfig()


class ChannelSystemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tenant: str
    channels: list[str]
    control_url: str | None = Field(default=None, pattern=r"^https?://")
    """A telephony platform's call-control webhook: where `call.route` and `call.control` commands
    are delivered, signed with this system's secret. Without one they are written to
    `<var>/call-control/`."""
    send_url: str | None = Field(default=None, pattern=r"^https?://")
    """An SMS gateway's or fax server's send webhook, signed likewise, where agents' replies go once
    the Do Not Call gate clears them; without one they are written to `<var>/sms-outbox/` or
    `<var>/fax-outbox/`."""


class CentreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[TenantConfig]
    channel_systems: list[ChannelSystemConfig] = []
    agents: list[AgentConfig] = []
    technicians: list[TechnicianConfig] = []

    @model_validator(mode="after")
    def _references(self) -> CentreConfig:
        for tenant in self.tenants:
            check_tenant_references(tenant, self)
        tenants = {t.id for t in self.tenants}
        for tech in self.technicians:
            if tech.tenant not in tenants:
                raise ValueError(f"technician {tech.id}: unknown tenant {tech.tenant!r}")
        return self

    def tenant(self, tenant_id: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)


def check_tenant_references(tenant: TenantConfig, centre: CentreConfig) -> None:
    """Every queue a tenant's rules, queues, SLA policies and escalation levels name exists, and
    overflow into another tenant's
    queue is allowed only where that tenant lists this one among its `overflow_partners`."""
    own = {q.id for q in tenant.queues}
    others = {t.id: t for t in centre.tenants}

    def local(queue_id: str, where: str) -> None:
        if queue_id not in own:
            raise ValueError(f"tenant {tenant.id}: {where} names unknown queue {queue_id!r}")

    for rule in tenant.rules:
        local(rule.queue, f"rule {rule.name!r}")
    for level in tenant.escalation.levels:
        local(level.queue, f"escalation level {level.name!r}")
    for queue_id in sorted(tenant.catalogue.queues_named()):
        local(queue_id, "the catalogue")
    for policy in tenant.escalation.policies:
        for queue_id in policy.queues:
            local(queue_id, f"SLA policy {policy.id!r}")
    named = tenant.escalation.complaints.level
    if named is not None and named not in {level.name for level in tenant.escalation.levels}:
        raise ValueError(f"tenant {tenant.id}: complaints go to unknown level {named!r}")
    for queue in tenant.queues:
        for action, value in (("when_closed", queue.when_closed), ("when_full", queue.when_full)):
            if value not in ("wait", "reject"):
                local(value, f"queue {queue.id!r} {action}")
        for target in queue.overflow.to if queue.overflow else []:
            partner, _, queue_id = target.rpartition("/")
            if not partner or partner == tenant.id:
                local(queue_id, f"queue {queue.id!r} overflow")
                continue
            if partner not in others or queue_id not in {q.id for q in others[partner].queues}:
                raise ValueError(f"tenant {tenant.id}: overflow to unknown queue {target!r}")
            if tenant.id not in others[partner].overflow_partners:
                raise ValueError(
                    f"tenant {tenant.id}: overflow to {target!r} needs {partner!r} to list "
                    f"{tenant.id!r} in its overflow_partners"
                )


def load_centre(path: Path) -> CentreConfig:
    return CentreConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
