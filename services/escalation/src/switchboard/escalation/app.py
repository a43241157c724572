"""Escalation's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.escalation import api, handlers
from switchboard.escalation.context import Escalation
from switchboard.escalation.settings import EscalationSettings
from switchboard.escalation.timers import Timers

SERVICE = handlers.SERVICE


def build_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    runtime = build_runtime(SERVICE, settings)
    clock = Clock(settings.escalation_clock_file)
    timers = Timers(
        runtime, clock, tick=settings.escalation_tick_seconds, batch=settings.escalation_batch
    )
    tracer = runtime.tracer_provider.get_tracer("switchboard.escalation")
    runtime.context = Escalation(runtime, clock, timers.wake, tracer)
    handlers.subscriptions.attach(runtime)

    async def run_timers(_: Runtime) -> None:
        await timers.run()

    app = build_http(runtime, title="Switchboard escalation", background=[run_timers])
    app.include_router(api.router)
    return app
