"""Channel-system request signatures (DESIGN.md, "Public interfaces").

X-Switchboard-System:    the channel system's id
X-Switchboard-Timestamp: UNIX seconds
X-Switchboard-Signature: sha256=HEX, HEX = HMAC-SHA256(secret, f"{timestamp}.".encode() + body)
"""

from __future__ import annotations

import hashlib
import hmac
import time

SYSTEM_HEADER = "X-Switchboard-System"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Signature"


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(
    system_id: str, secret: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        SYSTEM_HEADER: system_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature(secret, ts, body),
    }
