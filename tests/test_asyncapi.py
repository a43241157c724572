"""The committed AsyncAPI documents (docs/asyncapi/) are what the code generates: a handler, topic
or payload changed without `make docs` fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.cli import asyncapi
from switchboard.cli.services import SERVICES

DOCS = Path(__file__).parent.parent / "docs" / "asyncapi"


@pytest.mark.parametrize("service", SERVICES)
def test_the_committed_asyncapi_document_matches_the_code(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SWITCHBOARD_KAFKA", "SWITCHBOARD_BROKER_PORT", "SWITCHBOARD_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path))
    committed = (DOCS / f"{service}.yaml").read_text(encoding="utf-8")
    assert asyncapi.document(service) == committed, f"run `make docs`: {service} changed"
