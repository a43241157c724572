"""The desktop's wiring: the only place its parts are put together."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import Gauge
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import mail as outgoing
from switchboard.common import operator_tokens
from switchboard.common.envelope import utcnow
from switchboard.common.runtime import Runtime, Transaction, build_runtime
from switchboard.common.service import build_http, repeat
from switchboard.desktop import (
    api,
    catalogue_api,
    channels_api,
    handlers,
    inbox_store,
    operators_api,
    quality_api,
    schedule_api,
    store,
)
from switchboard.desktop.context import Desktop
from switchboard.desktop.settings import DesktopSettings
from switchboard.desktop.streams import Wakeups

SERVICE = handlers.SERVICE
STATIC = Path(str(files("switchboard.desktop") / "static"))
INBOX_KEPT = timedelta(days=2)
"""An agent's stream can be resumed across a gap this long; a longer one gets `resync`."""

log = structlog.get_logger("switchboard.desktop")


async def _operators_issuer_key(session: AsyncSession) -> None:
    """The key operators' tokens are signed with: `switchboard seed` makes it and gives its public
    half to every service; a desktop started without it makes its own (which only it knows)."""
    key = await operator_tokens.newest_issuer_key(session)
    if key is None or key.private_jwk is None:
        await operator_tokens.keep_issuer_key(
            session, operator_tokens.new_issuer_key(), private=True
        )


def build_app(settings: DesktopSettings | None = None) -> FastAPI:
    settings = settings or DesktopSettings()
    runtime = build_runtime(SERVICE, settings)
    wakeups = Wakeups()
    mailer = outgoing.mailer(settings.desktop_smtp_relay, settings.mail_sink)
    runtime.context = desktop = Desktop(runtime, settings, wakeups, mailer)
    Gauge(
        "switchboard_desktop_streams", "Agents' event streams open now", registry=runtime.metrics
    ).set_function(lambda: wakeups.open_streams)
    Gauge(
        "switchboard_desktop_stream_entries_kept",
        "Inbox entries held in memory for open streams that have not sent them yet",
        registry=runtime.metrics,
    ).set_function(lambda: wakeups.entries_kept)
    handlers.subscriptions.attach(runtime)

    async def prepare(rt: Runtime) -> None:
        async with rt.db.session() as session:
            await _operators_issuer_key(session)
            if settings.desktop_token_secret is not None:
                desktop.session_key.load(settings.desktop_token_secret.get_secret_value().encode())
                return
            desktop.session_key.load(await store.signing_key(session))

    async def prune(tx: Transaction) -> None:
        removed = await inbox_store.prune_inboxes(tx.session, before=utcnow() - INBOX_KEPT)
        if removed:
            log.info("inbox entries pruned", removed=removed)

    app = build_http(
        runtime,
        title="Switchboard agent desktop",
        prepare=prepare,
        background=[
            lambda rt: repeat(rt, prune, every=3600.0, name="inbox prune"),
            lambda rt: wakeups.watch(rt.db, settings.desktop_poll_seconds),
        ],
    )
    app.include_router(api.router)
    app.include_router(schedule_api.router)
    app.include_router(quality_api.router)
    app.include_router(catalogue_api.router)
    app.include_router(channels_api.router)
    app.include_router(operators_api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app
