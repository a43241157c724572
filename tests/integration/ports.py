"""Ports for the test centres: reserved for the pytest process that takes them, below the range the
kernel hands out to `bind(0)` and to outgoing connections.

A port picked with `bind(0)` is free only until it is released, and a centre's services bind theirs
seconds later. In that time another worker's `bind(0)` may be handed the same port, and so may an
outgoing connection (the suite holds hundreds: brokers, databases, browsers); then a service cannot
bind its address, or another one answers at it. Here each port is taken from a range the kernel
never hands out, and reserved with a lock file the process holds until it exits, which every
worker, and every other run of the suite on the machine, respects; each port is still tried with a
bind first, for whatever else the machine runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

from switchboard.common.process import free_ports

FIRST, LAST = 10_000, 19_999
"""The range reserved ports come from (below Linux's default ephemeral range, 32768 up)."""
RESERVATIONS = Path(tempfile.gettempdir()) / "switchboard-test-ports"

_held: list[int] = []
"""The lock files of the ports this process reserved, open until it exits."""


def centre_ports(*names: str) -> dict[str, int]:
    """A port for each name, no two the same, reserved for this process; `free_ports` where the
    kernel's own range reaches down into ours."""
    if _kernels_lowest() <= LAST:
        return free_ports(*names)
    RESERVATIONS.mkdir(exist_ok=True)
    span = LAST - FIRST + 1
    start = random.randrange(span)
    ports: dict[str, int] = {}
    with contextlib.ExitStack() as tried:
        candidates = (FIRST + (start + n) % span for n in range(span))
        for name in names:
            for port in candidates:
                lock = _reserve(port)
                if lock is None:
                    continue
                sock = tried.enter_context(socket.socket())
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:  # something else on the machine holds it, or it is still closing
                    os.close(lock)
                    continue
                _held.append(lock)
                ports[name] = port
                break
            else:
                return free_ports(*names)
    return ports


def reserved_port() -> int:
    """One port, as `centre_ports` gives them: for a server a test starts in a process of its own,
    which binds it only once that process is up."""
    return centre_ports("port")["port"]


def _reserve(port: int) -> int | None:
    """The open lock file that reserves `port` for this process, or None: another one holds it."""
    lock = os.open(RESERVATIONS / str(port), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    return lock


def _kernels_lowest() -> int:
    """The first port of the kernel's ephemeral range (Linux's default starts at 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768
