"""Child-process helpers for the supervisor and the embedded broker."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child, before exec: receive SIGTERM when the parent dies, even by SIGKILL (Linux), so
    no service or broker outlives the `switchboard up` that started it."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    return free_ports("port")["port"]


def free_ports(*names: str) -> dict[str, int]:
    """A free port on 127.0.0.1 for each name, no two the same. Each socket stays bound until all
    are chosen: a port closed at once goes back to the kernel, which may hand it to the very next
    bind, and a centre given one port twice starts one service where another should answer (CI saw
    the desktop answer at the catalogue's address)."""
    with contextlib.ExitStack() as held:
        sockets = {name: held.enter_context(socket.socket()) for name in names}
        for sock in sockets.values():
            sock.bind(("127.0.0.1", 0))
        return {name: int(sock.getsockname()[1]) for name, sock in sockets.items()}
