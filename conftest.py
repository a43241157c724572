"""Fixtures every test directory may use: `database` (SQLite and PostgreSQL) for the services'
store contract suites; and how `make test` spreads the tests over its workers (tests/scheduling.py).
"""

pytest_plugins = ["switchboard.common.testing.databases", "tests.scheduling"]
