"""Recording's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.runtime import build_runtime
from switchboard.common.service import build_http, repeat
from switchboard.recording import api, customers_api, handlers, privacy_api, retention
from switchboard.recording.quality import api as quality_api
from switchboard.recording.quality import team_api as quality_team_api
from switchboard.recording.settings import RecordingSettings

SERVICE = handlers.SERVICE


def build_app(settings: RecordingSettings | None = None) -> FastAPI:
    settings = settings or RecordingSettings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    app = build_http(
        runtime,
        title="Switchboard recording",
        background=[
            lambda rt: repeat(
                rt,
                retention.run,
                every=settings.recording_retention_interval_seconds,
                name="retention",
            )
        ],
    )
    app.include_router(api.router)
    app.include_router(customers_api.router)
    app.include_router(privacy_api.router)
    app.include_router(quality_api.router)
    app.include_router(quality_team_api.router)
    return app
