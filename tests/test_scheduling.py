"""`make test`'s workers: each backend's integration tests stay together, the rest spread."""

from __future__ import annotations

from tests.scheduling import centre_of, group_of


def test_an_integration_test_goes_with_the_centres_of_its_backend() -> None:
    assert centre_of("tests/integration/test_delivery.py::test_dead_letters[sqlite]") == "sqlite"
    assert centre_of("tests/integration/test_acd.py::test_twenty[postgresql]") == "postgresql"
    assert centre_of("tests/integration/test_intake_fuzz.py::test_email[sqlite-3]") == "sqlite"
    assert centre_of("tests/integration/test_x.py::test_y[containers]") == "containers"


def test_tests_without_a_centre_spread_one_by_one() -> None:
    assert centre_of("tests/integration/test_chaos.py::test_nothing_is_lost") is None
    assert centre_of("tests/integration/test_x.py::test_case[sqlitefile]") is None
    assert centre_of("libs/common/tests/test_db.py::test_held[sqlite]") is None
    assert centre_of("tests/test_readme.py::test_every_service") is None


def test_each_centre_is_a_group_of_its_own() -> None:
    """Tests of one centre run in one worker (it starts once); different centres, of one backend
    too, may run at the same time in different workers."""
    shared = "tests/integration/test_delivery.py::test_dead_letters[sqlite]"
    assert group_of(shared, ["floor", "centre", "request"]) == "sqlite:centre"
    clocked = "tests/integration/test_dispatch.py::test_jobs[postgresql]"
    assert group_of(clocked, ["clocked"]) == "postgresql:clocked"
    own = "tests/integration/test_acd.py::test_twenty[sqlite]"
    assert group_of(own, ["acd_centre"]) == "sqlite:tests/integration/test_acd.py"
    assert group_of("tests/integration/test_chaos.py::test_nothing_is_lost", []) is None
