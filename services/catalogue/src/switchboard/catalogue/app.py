"""The catalogue's wiring: the only place its parts are put together."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from switchboard.catalogue import (
    catalogue_api,
    handlers,
    knowledge_api,
    orders_api,
    ports,
    retention_api,
)
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.settings import CatalogueSettings
from switchboard.common.runtime import build_runtime
from switchboard.common.service import build_http

SERVICE = handlers.SERVICE


async def _refused_input(_request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with where and what, never the value sent: a payment's body holds card details."""
    problems = [
        {"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")} for e in error.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def _port_down(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503)


def build_app(settings: CatalogueSettings | None = None) -> FastAPI:
    settings = settings or CatalogueSettings()
    runtime = build_runtime(SERVICE, settings)
    runtime.context = Catalogue(
        runtime, settings, ports.bureau(settings), ports.payments(settings, secrets.token_bytes(32))
    )
    handlers.subscriptions.attach(runtime)
    app = build_http(runtime, title="Switchboard catalogue")
    mount(app)
    return app


def mount(app: FastAPI) -> None:
    """The catalogue's routes and error answers on `app`."""
    app.add_exception_handler(RequestValidationError, _refused_input)  # type: ignore[arg-type]
    app.add_exception_handler(ports.PortUnavailable, _port_down)
    for api in (catalogue_api, knowledge_api, orders_api, retention_api):
        app.include_router(api.router)
