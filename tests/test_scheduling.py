"""`make test`'s workers: each backend's integration tests stay together, the rest spread."""

from __future__ import annotations

from tests.scheduling import centre_of


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
