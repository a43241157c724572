"""The `switchboard` command: every group is there, and a call loads only the group it runs (a
service's start and every `switchboard status` paid for all four groups' imports before)."""

from __future__ import annotations

import subprocess
import sys

from switchboard.cli.main import GROUPS
from switchboard.cli.status import lag_of


def _switchboard(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchboard.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_help_lists_every_command_and_group_and_each_group_answers() -> None:
    listed = _switchboard("--help")
    assert listed.returncode == 0, listed.stderr
    for name in ("up", "service", "status", "trace", "migrate", *GROUPS):
        assert f" {name} " in listed.stdout, name
    for group in GROUPS:
        answer = _switchboard(group, "--help")
        assert answer.returncode == 0 and f"switchboard.cli {group}" in answer.stdout, answer.stderr
    assert _switchboard("nope").returncode == 2
    assert " add " in _switchboard("tenant", "--help").stdout  # a group of one command stays one


def test_a_command_loads_no_group_it_does_not_run() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, switchboard.cli.main; "
            "print(sorted(m for m in sys.modules if m.startswith(('switchboard.cli.', 'alembic', "
            "'sqlalchemy', 'aiokafka'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "['switchboard.cli.main']"


def test_status_counts_partitions_ahead_of_the_end_only_where_that_means_lost_messages() -> None:
    behind = [3, 0, -2, -1]  # end offset minus committed offset, per partition
    assert lag_of(behind, end_reads_low=False) == (3, 2)  # Kafka: two partitions lost messages
    assert lag_of(behind, end_reads_low=True) == (3, 0)  # the embedded broker's end reads low
