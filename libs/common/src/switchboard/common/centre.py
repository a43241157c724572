"""The centre's configuration: tenants, where their contacts arrive, their queues and the channel
systems allowed to hand contacts in. Loaded from YAML (`config/demo-centre.yaml` is the demo centre);
each service applies the part it owns to its own tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Addresses(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] = []
    phone: list[str] = []
    fax: list[str] = []


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    default: bool = False
    priority: int = Field(default=5, ge=1, le=10)
    service_level_percent: int = Field(default=80, ge=1, le=100)
    service_level_seconds: int = Field(default=20, gt=0)


class DncPolicyConfig(BaseModel):
    """How the Do Not Call gate treats the tenant's marketing."""

    model_config = ConfigDict(extra="forbid")

    exemption: (
        Literal["charity", "government", "political_party", "educational", "religious"] | None
    ) = None
    outsources_telemarketing: bool = False
    contract_dnc_clause: str | None = None
    wash_validity_days: int = Field(default=30, ge=1, le=365)


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str
    region: str = "AU"
    timezone: str = "Australia/Sydney"
    addresses: Addresses = Addresses()
    queues: list[QueueConfig] = []
    dnc: DncPolicyConfig = DncPolicyConfig()


class ChannelSystemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tenant: str
    channels: list[str]


class CentreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[TenantConfig]
    channel_systems: list[ChannelSystemConfig] = []

    def tenant(self, tenant_id: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)


def load_centre(path: Path) -> CentreConfig:
    return CentreConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
