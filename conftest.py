"""Fixtures every test directory may use: `database` (SQLite and PostgreSQL) for the services'
store contract suites; and how the tests are spread over pytest-xdist's workers when there are
several (tests/scheduling.py)."""

pytest_plugins = ["switchboard.common.testing.databases", "tests.scheduling"]
