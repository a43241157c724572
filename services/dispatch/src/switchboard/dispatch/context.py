"""What dispatch's handlers, loop and routes work with, made once in `build_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.trace import Tracer

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, ServiceContext
from switchboard.dispatch.settings import DispatchSettings


@dataclass(frozen=True)
class Dispatch(ServiceContext):
    runtime: Runtime
    settings: DispatchSettings
    clock: Clock
    """Dispatch's now (a test or a drill may move it)."""
    wake: Callable[[], None]
    """Wakes the loop: a notice or a visit is due sooner than it was sleeping for."""
    tracer: Tracer
