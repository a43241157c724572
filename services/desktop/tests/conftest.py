"""The desktop's unit tier fixtures (what they build is `desktop_under_test`'s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.desktop.tests.desktop_under_test import CENTRE, PASSWORDS, Desktop, running_desktop
from switchboard.desktop import api


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[Desktop]:
    async with running_desktop(tmp_path, CENTRE, PASSWORDS, api.router) as (service, http):
        yield Desktop(service, http)
