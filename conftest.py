"""Fixtures every test directory may use: `database` (SQLite and PostgreSQL) for the services'
store contract suites."""

pytest_plugins = ["switchboard.common.testing.databases"]
