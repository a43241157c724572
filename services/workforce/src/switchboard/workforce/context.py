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
