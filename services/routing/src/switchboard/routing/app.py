"""Routing's wiring: the only place its parts are put together."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.common.runtime import build_runtime
from switchboard.common.service import build_http
from switchboard.common.settings import Settings
from switchboard.routing import handlers

SERVICE = handlers.SERVICE


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = build_runtime(SERVICE, settings)
    handlers.subscriptions.attach(runtime)
    return build_http(runtime, title="Switchboard routing")
