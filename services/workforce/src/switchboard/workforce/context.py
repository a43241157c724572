"""What workforce's handlers, loop and API work with, made once in `build_app`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, ServiceContext
from switchboard.workforce.intraday import Requirements
from switchboard.workforce.settings import WorkforceSettings


@dataclass(frozen=True)
class Workforce(ServiceContext):
    runtime: Runtime
    settings: WorkforceSettings
    clock: Clock
    requirements: Requirements = field(default_factory=Requirements)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when an agent's state or a roster changed: the publisher re-measures at once."""
    changed_tenants: set[str] = field(default_factory=set)
    """The tenants whose agents' states or rosters changed since the publisher last looked."""

    def tenant_changed(self, tenant_id: str) -> None:
        """Wake the publisher to re-measure `tenant_id` now (only that tenant: a centre of many
        tenants has an agent changing state every moment somewhere)."""
        self.changed_tenants.add(tenant_id)
        self.changed.set()

    def take_changed(self) -> set[str]:
        """The tenants changed since the last call, and the wake-up cleared."""
        tenants = set(self.changed_tenants)
        self.changed_tenants.clear()
        self.changed.clear()
        return tenants
