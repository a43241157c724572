"""Intake's wiring: the only place its parts are put together."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from fastapi import FastAPI

from switchboard.common.envelope import utcnow
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.intake import api, handlers, store
from switchboard.intake.adapters.smtp import start_smtp
from switchboard.intake.context import Intake
from switchboard.intake.settings import IntakeSettings

SERVICE = handlers.SERVICE


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    background: list[asyncio.Task[None]] = []
    servers: list[asyncio.Server] = []

    async def on_start(rt: Runtime) -> None:
        background.append(asyncio.create_task(_forget_old_signatures(rt, settings)))
        if settings.intake_smtp:
            servers.append(await start_smtp(Intake.of(rt)))

    async def on_stop(_rt: Runtime) -> None:
        for server in servers:
            server.close()
            await server.wait_closed()
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = build_http(runtime, title="Switchboard intake", on_start=on_start, on_stop=on_stop)
    app.include_router(api.router)
    return app


async def _forget_old_signatures(runtime: Runtime, settings: IntakeSettings) -> None:
    """A signature older than twice the window can no longer be replayed (its timestamp is
    refused as stale): drop it."""
    keep = timedelta(seconds=2 * settings.intake_signature_window_seconds)
    while True:
        await asyncio.sleep(60)
        with contextlib.suppress(Exception):
            async with runtime.db.session() as session:
                await store.forget_signatures_before(session, cutoff=utcnow() - keep)
