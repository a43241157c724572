"""`switchboard up` as an operator runs it: it comes up, says where everything is, and Ctrl-C
leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.integration import loopback
from tests.integration.harness import run_switchboard
from tests.integration.ports import centre_ports

SERVICES = ("intake", "routing", "recording")


def _processes_started_for(var_dir: Path) -> list[int]:
    """Processes whose environment names this run's var dir (everything `up` started)."""
    marker = f"SWITCHBOARD_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_up_runs_the_centre_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    ports = {
        f"SWITCHBOARD_{name.upper()}_PORT": str(port)
        for name, port in centre_ports(*SERVICES, "broker", "smtp").items()
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")},
        **ports,
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert up.stdout is not None
        deadline = time.monotonic() + 120
        for line in up.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        assert any("Switchboard is up" in line for line in output), "".join(output)
        for service in SERVICES:
            port = ports[f"SWITCHBOARD_{service.upper()}_PORT"]
            assert any(f"http://127.0.0.1:{port}" in line for line in output)
            assert loopback.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

        credentials = tmp_path / "dev-credentials.json"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        creds = json.loads(credentials.read_text())
        assert {"channel_systems", "agents", "operator_token", "tenants"} <= set(creds)
        assert all({"secret", "tenant"} <= set(s) for s in creds["channel_systems"].values())
        assert all({"email", "phone", "fax"} <= set(t) for t in creds["tenants"].values())

        demo = run_switchboard(env, "demo", "--json")
        assert demo.returncode == 0, demo.stderr
        assert [json.loads(line)["recorded"] for line in demo.stdout.splitlines()] == [True] * 5
        assert {p.name for p in (tmp_path / "log").iterdir()} >= {f"{s}.log" for s in SERVICES}
        assert {f"{s}.db" for s in SERVICES} <= {p.name for p in tmp_path.iterdir()}
        assert _processes_started_for(tmp_path), "services and broker run with this var dir"
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(60)
    assert up.returncode == 0
    deadline = time.monotonic() + 10
    while _processes_started_for(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_started_for(tmp_path) == []
