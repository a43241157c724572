"""How `make test TEST_WORKERS=auto` spreads the tests over pytest-xdist's workers (`--dist
loadgroup`, one worker a core; `make test` alone runs them serially): every integration test on one backend's centres runs in one worker, so each of those
centres (the shared one, the clocked one, a module's own) starts once, and its tests keep the order
pytest gave them. The other tests go one at a time to whichever worker is free.

A worker hands its collection over with the integration tests first. The scheduler sends the
largest groups first, one backend to each worker; the single tests that take minutes (the chaos
drill, `switchboard up`) come next; the unit tests fill in at the end, so both workers finish at
about the same time.

xdist's own `loadgroup` reads an `xdist_group` mark from a suffix it writes into each test's node
id, which pytest 9 no longer lets a plugin change: the groups here are read from the node id
instead, where the test's id names its backend (`[sqlite]`, `[postgresql-...]`)."""

from __future__ import annotations

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


class CentreScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return centre_of(nodeid) or nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return CentreScheduling(config, log)  # type: ignore[arg-type]


@pytest.hookimpl(trylast=True)  # after pytest has put each centre's tests together
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the scheduler reads this order
        items.sort(key=lambda item: not item.nodeid.startswith(INTEGRATION))
