"""The integration tier's fixtures (the harness they use is `tests.integration.harness`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.centres import BACKENDS, CONTAINERS, running_centre
from tests.integration.desk import AgentAtDesk
from tests.integration.field import centre_config
from tests.integration.harness import RunningCentre
from tests.integration.tenants import OIDC
from tests.scheduling import SHARED_CENTRES


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Stop a shared centre as soon as the next test does not use it, instead of at the end of the
    session: its tests run together (pytest orders them by the centre they share, and
    `tests/scheduling.py` gives them one worker), and an idle centre of nine processes would keep
    taking CPU from the tests still running for the rest of the session. Should a later test ask
    for it after all, pytest starts it again."""
    yield
    used = getattr(item, "fixturenames", ())
    wanted_next = getattr(nextitem, "fixturenames", ())
    for name in SHARED_CENTRES:
        if name in used and name not in wanted_next:
            definitions = item._fixtureinfo.name2fixturedefs  # type: ignore[attr-defined]
            for definition in definitions.get(name, ()):
                definition.finish(item._request)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CONTAINERS:
        terminalreporter.write_line(
            "integration: the Apache Kafka + PostgreSQL containers variant was not run (no Docker"
            " engine reachable here); SWITCHBOARD_TEST_CONTAINERS=1 makes it required",
            yellow=True,
        )


@pytest.fixture(scope="module")
def floor(centre: RunningCentre, request: pytest.FixtureRequest) -> RunningCentre:
    """The module's own tenant of the shared centre: its agents may go available without meeting
    other tests' contacts, and its telephony platform and SMS gateway are a loopback server the
    tests script (`floor.platform`)."""
    module = request.module.__name__.rpartition(".")[2]
    return centre.new_floor(module.removeprefix("test_").replace("_", "-"))


@pytest.fixture(scope="session", params=BACKENDS)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningCentre]:
    """The centre most tests share, each in a tenant of its own where it needs one
    (`new_tenant`, `new_floor`)."""
    yield from running_centre(request.param, tmp_path_factory, extra_env=OIDC)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningCentre]:
    """The centre whose escalation and dispatch clocks tests move (`.clock(service)`), kept apart
    from the shared centre, where a jump of escalation's clock would breach every other test's
    contacts. The dispatch tests use its demo tenant (with the field technicians of
    `field.centre_config`), the escalation test a tenant of its own."""
    yield from running_centre(
        request.param,
        tmp_path_factory,
        centre_config=centre_config(tmp_path_factory.mktemp("clocked")),
        clocks=("workforce", "escalation", "dispatch"),
    )


@pytest.fixture
def desk(floor: RunningCentre) -> Iterator[dict[str, AgentAtDesk]]:
    """alice, bilal and chen (the team leader) signed in and available; offline afterwards, so
    the next test starts with nobody taking contacts."""
    agents = {name: AgentAtDesk(floor, name) for name in ("alice", "bilal", "chen")}
    yield agents
    for agent in agents.values():
        agent.post("/v1/state", {"state": "offline"})
