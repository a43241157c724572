"""Intake's wiring: the only place its parts are put together."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from switchboard.common.envelope import utcnow
from switchboard.common.runtime import Runtime, Transaction, build_runtime
from switchboard.common.service import build_http, repeat
from switchboard.intake import api, chat, handlers, store
from switchboard.intake.adapters.smtp import start_smtp
from switchboard.intake.context import Intake
from switchboard.intake.settings import IntakeSettings

SERVICE = handlers.SERVICE
STATIC = Path(__file__).parent / "static"


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    runtime.context = Intake.build(runtime, settings)
    servers: list[asyncio.Server] = []
    keep = timedelta(seconds=2 * settings.intake_signature_window_seconds)

    async def forget_old_signatures(tx: Transaction) -> None:
        """A signature older than twice the window can no longer be replayed (its timestamp is
        refused as stale): drop it."""
        await store.forget_signatures_before(tx.session, cutoff=utcnow() - keep)

    async def on_start(rt: Runtime) -> None:
        if settings.intake_smtp:
            servers.append(await start_smtp(Intake.of(rt)))

    async def on_stop(_rt: Runtime) -> None:
        for server in servers:
            server.close()
            await server.wait_closed()

    app = build_http(
        runtime,
        title="Switchboard intake",
        on_start=on_start,
        on_stop=on_stop,
        background=[
            lambda rt: repeat(
                rt, forget_old_signatures, every=60, name="forget signatures", at_start=False
            )
        ],
    )
    app.include_router(api.router)
    app.include_router(chat.router)
    app.mount("/chat", StaticFiles(directory=STATIC / "chat", html=True), name="chat")
    return app
