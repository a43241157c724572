"""What escalation's handlers, timers and routes work with, made once in `build_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.trace import Tracer

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, ServiceContext


@dataclass(frozen=True)
class Escalation(ServiceContext):
    runtime: Runtime
    clock: Clock
    """Escalation's now (a test or a drill may move it)."""
    wake: Callable[[], None]
    """Wakes the timers: a timer is due sooner than they were sleeping for."""
    tracer: Tracer
