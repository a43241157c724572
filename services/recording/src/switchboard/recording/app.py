"""Recording's wiring: the only place its parts are put together."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI

from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.recording import api, handlers, retention
from switchboard.recording.settings import RecordingSettings

SERVICE = handlers.SERVICE
log = structlog.get_logger("switchboard.recording")


def build_app(settings: RecordingSettings | None = None) -> FastAPI:
    settings = settings or RecordingSettings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    background: list[asyncio.Task[None]] = []

    async def on_start(rt: Runtime) -> None:
        background.append(asyncio.create_task(_retention(rt, settings)))

    async def on_stop(_rt: Runtime) -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = build_http(runtime, title="Switchboard recording", on_start=on_start, on_stop=on_stop)
    app.include_router(api.router)
    return app


async def _retention(runtime: Runtime, settings: RecordingSettings) -> None:
    """The scheduled retention job (each run also reports itself; see `retention`)."""
    while True:
        try:
            async with runtime.db.session() as session:
                await retention.run(session)
        except Exception as error:  # the database is away: the next run catches up
            log.warning("retention run failed", error=repr(error))
        await asyncio.sleep(settings.recording_retention_interval_seconds)
