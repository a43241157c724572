"""Workforce's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.workforce import api, handlers, people_api, publisher
from switchboard.workforce.context import Workforce
from switchboard.workforce.settings import WorkforceSettings

SERVICE = handlers.SERVICE


def build_app(settings: WorkforceSettings | None = None) -> FastAPI:
    settings = settings or WorkforceSettings()
    runtime = build_runtime(SERVICE, settings)
    context = Workforce(runtime, settings, Clock(settings.workforce_clock_file))
    runtime.context = context
    handlers.subscriptions.attach(runtime)

    async def publish(_: Runtime) -> None:
        await publisher.run(context)

    app = build_http(runtime, title="Switchboard workforce", background=[publish])
    app.include_router(api.router)
    app.include_router(people_api.router)
    return app
