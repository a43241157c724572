"""What escalation's handlers, timers and routes work with, made once in `build_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from opentelemetry.trace import Tracer

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, ServiceContext


@dataclass(frozen=True)
class Escalation(ServiceContext):
    runtime: Runtime
    clock: Clock
    """Escalation's now (a test or a drill may move it)."""
    wake: Callable[[datetime], None]
    """Told of each timer scheduled (when it fires): wakes the timers if it is due sooner than
    they would look again."""
    tracer: Tracer
