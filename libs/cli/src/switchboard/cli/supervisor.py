"""Runs each service as its own process, restarts one that dies (with backoff, logged), and writes
its output to `<var_dir>/log/<service>.log` as JSON lines (a line a service printed that is not
JSON, a crash's traceback say, is wrapped into one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from switchboard.common.process import die_with_parent

RESTART_BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0


def _now() -> str:
    return datetime.now(UTC).isoformat()


class LogSink:
    """One service's log file; lines from several threads never interleave."""

    def __init__(self, path: Path, service: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", buffering=1)
        self._service = service
        self._lock = threading.Lock()

    def write_line(self, line: str, *, stream: str = "stdout") -> None:
        line = line.rstrip("\n")
        if not line:
            return
        if not (line.startswith("{") and _is_json(line)):
            line = json.dumps(
                {
                    "timestamp": _now(),
                    "service": self._service,
                    "level": "info",
                    "stream": stream,
                    "event": line,
                }
            )
        with self._lock:
            self._file.write(line + "\n")

    def event(self, event: str, **fields: Any) -> None:
        record = {
            "timestamp": _now(),
            "service": self._service,
            "logger": "supervisor",
            "event": event,
        }
        self.write_line(json.dumps({**record, "level": "warning", **fields}))

    def close(self) -> None:
        self._file.close()


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


class ServiceProcess:
    def __init__(self, name: str, *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.sink = LogSink(log_dir / f"{name}.log", name)
        self.process: subprocess.Popen[str] | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.backoff = 1.0
        self.next_start = 0.0

    def start(self) -> None:
        """Start the service. Its PDEATHSIG fires when the *thread* that started it ends, so call
        this (and `Supervisor.check`) from a thread that lives as long as the centre."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "service", self.name],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            preexec_fn=die_with_parent,
        )
        self.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str] | None) -> None:
        if stream is None:
            return
        for line in stream:
            self.sink.write_line(line)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.process is not None
            os.kill(self.process.pid, sig)

    def wait(self, timeout: float) -> None:
        if self.process is not None:
            self.process.wait(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.sink.event("service did not stop in time; killed", timeout=timeout)
            self.process.kill()
            self.process.wait()


class Supervisor:
    def __init__(self, services: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.processes = {name: ServiceProcess(name, env=env, log_dir=log_dir) for name in services}
        self.stopping = False

    def start_all(self) -> None:
        for process in self.processes.values():
            process.start()

    def check(self) -> list[str]:
        """Restart every service that died (after its backoff); returns the names restarted."""
        restarted = []
        now = time.monotonic()
        for process in self.processes.values():
            if self.stopping or process.alive():
                if process.alive() and now - process.started_at > STABLE_AFTER:
                    process.backoff = 1.0
                continue
            if process.next_start == 0.0:
                code = process.process.returncode if process.process else None
                process.next_start = now + process.backoff
                process.sink.event(
                    "service exited; restarting", exit_code=code, restart_in_seconds=process.backoff
                )
            elif now >= process.next_start:
                process.restarts += 1
                process.backoff = min(process.backoff * 2, RESTART_BACKOFF_MAX)
                process.next_start = 0.0
                process.start()
                process.sink.event("service restarted", restarts=process.restarts, pid=process.pid)
                restarted.append(process.name)
        return restarted

    def stop_all(self) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.alive():
                process.signal(signal.SIGTERM)
        for process in self.processes.values():
            process.stop()
            process.sink.close()
