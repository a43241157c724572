"""How `make test` spreads the tests over pytest-xdist's workers (`--dist loadgroup`; with
`TEST_WORKERS=0` they run serially): every integration test on one centre (a backend's shared
centre, its clocked centre, a module's own) runs in one worker, so that centre starts once and its
tests keep the order pytest gave them. Different centres run in different workers at once. The
other tests go one at a time to whichever worker is free.

Only a worker knows which centre each test uses (its fixtures); the scheduler sees node ids. Each
worker writes the groups to a file the controller named (`centre_groups_dir`) as it hands its
collection over, with the integration tests first. The scheduler sends the largest groups first
(the shared centres), then the smaller centres and the single tests that take minutes (the chaos
drill, `switchboard up`); the unit tests fill in at the end, so the workers finish at about the
same time.

xdist's own `loadgroup` reads an `xdist_group` mark from a suffix it writes into each test's node
id, which pytest 9 no longer lets a plugin change: hence this scheduler."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

INTEGRATION = "tests/integration/"
BACKENDS = ("sqlite", "postgresql", "containers")
"""The ids `tests/integration/centres.BACKENDS` gives each integration test's centre."""


def centre_of(nodeid: str) -> str | None:
    """The backend whose centres the integration test `nodeid` runs on, if it names one."""
    if not nodeid.startswith(INTEGRATION) or not nodeid.endswith("]"):
        return None
    ids = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
    return next((backend for backend in BACKENDS if backend in ids), None)


SHARED_CENTRES = ("centre", "clocked")
"""The fixtures of the session-wide centres (`tests/integration/conftest.py`, which stops each once
its last test is done); any other centre is a module's."""


def group_of(nodeid: str, fixtures: Iterable[str]) -> str | None:
    """The integration test's group: its backend and the centre it runs on (a shared one, or its
    module's own), or None for a test that starts no centre it could share."""
    backend = centre_of(nodeid)
    if backend is None:
        return None
    names = set(fixtures)
    centre = next((name for name in SHARED_CENTRES if name in names), nodeid.partition("::")[0])
    return f"{backend}:{centre}"


class CentreScheduling(LoadScopeScheduling):
    """Groups as the workers wrote them (`GROUPS_FILE`): only a worker knows which fixtures each
    test uses, and the scheduler sees node ids alone."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:
            path = config_groups_file(self.config)
            self._groups = json.loads(path.read_text()) if path.exists() else {}
        return self._groups.get(nodeid) or centre_of(nodeid) or nodeid


GROUPS_FILE = "centre-groups.json"


def config_groups_file(config: pytest.Config) -> Path:
    """Where the workers write each integration test's group for the scheduler to read."""
    folder = getattr(config, "workerinput", {}).get("centre_groups_dir")
    if folder is None:
        folder = config.stash.setdefault(_GROUPS_DIR, tempfile.mkdtemp(prefix="centre-groups-"))
    return Path(folder) / GROUPS_FILE


_GROUPS_DIR = pytest.StashKey[str]()


def pytest_configure_node(node: Any) -> None:
    """(xdist, on the controller) tells each worker where to write the groups."""
    node.workerinput["centre_groups_dir"] = str(config_groups_file(node.config).parent)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_GROUPS_DIR, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return CentreScheduling(config, log)


@pytest.hookimpl(trylast=True)  # after pytest has put each centre's tests together
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the scheduler reads this order
        items.sort(key=lambda item: not item.nodeid.startswith(INTEGRATION))
        groups = {
            item.nodeid: group
            for item in items
            if (group := group_of(item.nodeid, getattr(item, "fixturenames", ()))) is not None
        }
        path = config_groups_file(config)
        partial = path.with_suffix(f".{config.workerinput['workerid']}")
        partial.write_text(json.dumps(groups))
        partial.replace(path)  # whole, whichever worker writes last: they collect the same tests
