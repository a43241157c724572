"""Content-addressed blob store for attachments: a local folder by default.

A blob's name is the SHA-256 of its bytes, so storing the same attachment twice is free and an
event can refer to it without carrying it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def path_of(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        path = self.path_of(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)

    def get(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()
