"""Dispatch's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common import mail
from switchboard.common.clock import Clock
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.service import build_http
from switchboard.dispatch import api, handlers
from switchboard.dispatch.adapters.media import Media
from switchboard.dispatch.context import Dispatch
from switchboard.dispatch.loop import Loop
from switchboard.dispatch.settings import DispatchSettings

SERVICE = handlers.SERVICE


def build_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    runtime = build_runtime(SERVICE, settings)
    clock = Clock(settings.dispatch_clock_file)
    media = Media(
        mailer=mail.mailer(settings.dispatch_smtp_relay, settings.mail_sink),
        outbox=settings.field_outbox,
        sender=settings.dispatch_sender,
    )
    loop = Loop(runtime, clock, media, tick=settings.dispatch_tick_seconds)
    tracer = runtime.tracer_provider.get_tracer("switchboard.dispatch")
    runtime.context = Dispatch(runtime, settings, clock, loop.wake, tracer)
    handlers.subscriptions.attach(runtime)

    async def run_loop(_: Runtime) -> None:
        await loop.run()

    app = build_http(runtime, title="Switchboard dispatch", background=[run_loop])
    app.include_router(api.router)
    return app
