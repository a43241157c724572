"""Whole centres for the integration tests: on SQLite, on the local PostgreSQL, or on Apache Kafka
and PostgreSQL in containers where a Docker engine is reachable."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from switchboard.cli.centre import Centre
from switchboard.cli.scratch import create_database, drop_database
from switchboard.cli.services import SERVICES
from switchboard.common.settings import Settings
from switchboard.common.testing.databases import PG_ADMIN_URL, unreachable
from tests.integration.harness import MAX_EMAIL_BYTES, RunningCentre, clock_file
from tests.integration.ports import centre_ports


def postgres_database() -> tuple[str, str]:
    """A new, empty database for one test session: (url, name)."""
    try:
        return create_database(PG_ADMIN_URL, "switchboard_test")
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unreachable(error)


def docker_engine_reachable() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return info.returncode == 0


CONTAINERS_REQUIRED = os.environ.get("SWITCHBOARD_TEST_CONTAINERS") == "1"
"""Set where the containers variant must run (a CI with Docker): without an engine it fails."""
CONTAINERS = CONTAINERS_REQUIRED or docker_engine_reachable()
BACKENDS = ["sqlite", "postgresql", *(["containers"] if CONTAINERS else [])]
"""SQLite and PostgreSQL with the embedded broker (or SWITCHBOARD_KAFKA); and, where a Docker
engine is reachable, Apache Kafka + PostgreSQL in containers (testcontainers). Where none is, the
variant is not collected and the run's summary says so (`conftest.pytest_terminal_summary`)."""


@contextlib.contextmanager
def _containers() -> Iterator[tuple[str, str]]:
    """(kafka bootstrap, database url) of Apache Kafka and PostgreSQL containers."""
    if not docker_engine_reachable():
        pytest.fail("SWITCHBOARD_TEST_CONTAINERS=1 but no Docker engine is reachable")
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:3.9.1").with_kraft() as kafka,
        PostgresContainer("postgres:16") as pg,
    ):
        url = pg.get_connection_url().replace("postgresql+psycopg2://", "postgresql://")
        yield kafka.get_bootstrap_server(), url


def running_centre(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    centre_config: Path | None = None,
    extra_env: dict[str, str] | None = None,
    clocks: tuple[str, ...] = ("workforce",),
) -> Iterator[RunningCentre]:
    """A whole centre on `backend` (see BACKENDS), seeded from `centre_config` (the demo centre
    when None), its services given `extra_env`; each service in `clocks` runs on a clock a test
    may move (`RunningCentre.clock`)."""
    database_url, kafka = (None, None)
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            database_url, name = postgres_database()
            stack.callback(drop_database, PG_ADMIN_URL, name)
        if backend == "containers":
            kafka, database_url = stack.enter_context(_containers())
        var_dir: Path = tmp_path_factory.mktemp(f"centre-{backend}")
        overrides = {"kafka": kafka} if kafka else {}
        settings = Settings(
            **overrides,
            var_dir=var_dir,
            database_url=database_url,
            centre_config=centre_config,
            **{
                f"{name}_port": port
                for name, port in centre_ports(*SERVICES, "broker", "smtp").items()
            },
        )
        env = {"SWITCHBOARD_INTAKE_MAX_EMAIL_BYTES": str(MAX_EMAIL_BYTES)}
        for service in clocks:  # only that service reads it: its time moves, not the others'
            clock = clock_file(var_dir, service)
            clock.write_text("0")
            env[f"SWITCHBOARD_{service.upper()}_CLOCK_FILE"] = str(clock)
        env.update(extra_env or {})
        centre = Centre(settings, extra_env=env)
        running: RunningCentre | None = None
        try:
            centre.start()
            centre.wait_healthy(timeout=90)
            running = RunningCentre(centre, backend)
            yield running
        finally:
            centre.stop()
            for close in running.closers if running else ():
                close()
