"""The centre's configuration: tenants, where their contacts arrive, their queues and the channel
systems allowed to hand contacts in. Loaded from YAML (`config/demo-centre.yaml` is the demo centre);
each service applies the part it owns to its own tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.common.catalogue_config import CatalogueConfig
from switchboard.common.events.intake import Channel
from switchboard.common.promises_config import (
    CallbackConfig,
    EscalationConfig,
    HoursConfig,
)
from switchboard.common.teams_config import (
    DispatchConfig,
    QualityConfig,
    TechnicianConfig,
    WorkforceConfig,
)


class Addresses(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] = []
    phone: list[str] = []
    fax: list[str] = []
    sms: list[str] = []
    """Numbers customers text."""
    chat: list[str] = []
    """Web chat entry points: the name a page's widget gives (`data-entry`), e.g. `acme-web`."""


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
