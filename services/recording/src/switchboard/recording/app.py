"""Recording's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.runtime import build_runtime
from switchboard.common.service import build_http
from switchboard.common.settings import Settings
from switchboard.recording import api, handlers

SERVICE = handlers.SERVICE


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    app = build_http(runtime, title="Switchboard recording")
    app.include_router(api.router)
    return app
