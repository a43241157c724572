"""The Grafana dashboard (deploy/grafana/switchboard.json) asks only for metrics the services
export: a metric renamed or dropped in the code fails here, not on an operator's wall."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from switchboard.cli.services import SERVICES, build_app

DASHBOARD = Path(__file__).parent.parent / "deploy" / "grafana" / "switchboard.json"
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def _exported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> set[str]:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path))
    names: set[str] = set()
    for service in SERVICES:
        registry = build_app(service).state.runtime.metrics
        for family in registry.collect():
            names.add(family.name)
            names.update(sample.name for sample in family.samples)
    return names


def test_every_panel_queries_a_metric_a_service_exports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exported = _exported(monkeypatch, tmp_path)
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    assert panels
    for panel in panels:
        for target in panel["targets"]:
            for name in re.findall(r"\bswitchboard_[a-z_]+", target["expr"]):
                base = next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)
                assert name in exported or base in exported, f"{panel['title']}: {name}"
