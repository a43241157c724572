"""Routing's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.routing import api, handlers
from switchboard.routing.context import Routing
from switchboard.routing.distributor import Distributor
from switchboard.routing.settings import RoutingSettings

SERVICE = handlers.SERVICE


async def prepare(runtime: Runtime, settings: RoutingSettings) -> Distributor:
    """Routing's context on `runtime`, its ACD rebuilt from the record before the first message
    is consumed."""
    runtime.context = context = Routing(runtime, settings, Distributor(runtime, settings))
    await context.acd.load()
    return context.acd


def build_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime = build_runtime(SERVICE, settings)
    runtime.context = Routing(runtime, settings, Distributor(runtime, settings))  # on /metrics now
    handlers.subscriptions.attach(runtime)

    async def load(rt: Runtime) -> None:
        await Routing.of(rt).acd.load()

    app = build_http(
        runtime,
        title="Switchboard routing",
        prepare=load,
        background=[lambda rt: Routing.of(rt).acd.run()],
    )
    app.include_router(api.router)
    return app
