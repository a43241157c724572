"""The chaos suite's short form, as CI runs it: the whole centre under load while two services are
killed at once, the broker connection is cut and the database stalled. `make chaos` runs the full
form on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from switchboard.cli import chaos
from switchboard.cli.services import SERVICES
from tests.integration.ports import centre_ports


# The drill is some 100 s of load and faults, then the drain; beside the other worker's centre on
# a slow 2-core machine it took 280 s, near the suite's 300 s limit a test.
@pytest.mark.timeout(600)
def test_nothing_acknowledged_is_lost_duplicated_or_stuck_when_parts_fail() -> None:
    report = chaos.run("sqlite", short=True, say=print, choose_ports=centre_ports)
    print(chaos.render(report))
    assert report.acknowledged >= 50
    assert report.lost == []
    assert report.duplicated == []
    assert report.stuck == []
    assert report.stream_problems == []
    assert [fault.fault for fault in report.faults] == [
        "kill -9 intake + recording",
        "broker cut 5 s",
        "database stalled 5 s",
    ]
    for fault in report.faults:
        assert set(fault.recovery_seconds) == set(SERVICES), f"{fault.fault}: not all healthy"
