"""deploy/prometheus/alerts.yml names only metrics the services export."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _sources() -> str:
    files = [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def test_every_alert_reads_a_metric_we_export() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {a["alert"] for a in alerts} >= {"SwitchboardRowsSetAside", "SwitchboardDeadLetters"}
    code = _sources()
    for alert in alerts:
        for metric in re.findall(r"switchboard_[a-z_]+", alert["expr"]):
            name = metric.removesuffix("_total")
            assert f'"{name}"' in code, f"{alert['alert']} reads {metric}, which nothing exports"
        assert alert["annotations"]["description"].strip()
