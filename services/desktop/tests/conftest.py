"""The desktop's unit tier fixtures (what they build is `desktop_under_test`'s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.desktop.tests.desktop_under_test import CENTRE, PASSWORDS, Desktop
from switchboard.common import mail as outgoing
from switchboard.common.testing import service_under_test
from switchboard.desktop import api, store, streams
from switchboard.desktop.context import Desktop as DesktopContext
from switchboard.desktop.handlers import SERVICE, subscriptions
from switchboard.desktop.settings import DesktopSettings


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[Desktop]:
    settings = DesktopSettings(var_dir=tmp_path)

    async def prepare(runtime: Any) -> None:
        mailer = outgoing.mailer(None, settings.mail_sink)
        runtime.context = desktop = DesktopContext(runtime, settings, streams.Wakeups(), mailer)
        async with runtime.db.session() as session:
            await store.apply_centre(session, CENTRE, PASSWORDS)
            desktop.session_key.load(await store.signing_key(session))

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        app = FastAPI()
        app.state.runtime = service.runtime
        app.include_router(api.router)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desktop") as http:
            yield Desktop(service, http)
