"""`switchboard trace CONTACT_ID`: the contact's trace as a waterfall, from the exported spans.

Shows each span (service, operation, start offset, duration, a bar to scale, errors in red), the
total time from the contact's arrival to its last span, and the longest wait between services
(from a span in one service to the first span of its child in another: time spent on Kafka).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from switchboard.common.telemetry import read_spans

ERROR = 2  # OTLP status code


@dataclass(frozen=True)
class Row:
    depth: int
    service: str
    operation: str
    start_ms: float
    duration_ms: float
    error: bool


@dataclass(frozen=True)
class Gap:
    after: str
    before: str
    ms: float


@dataclass(frozen=True)
class Waterfall:
    contact_id: str
    trace_ids: list[str]
    total_ms: float
    rows: list[Row]
    longest_gap: Gap | None


def _attribute(span: dict[str, Any], key: str) -> str | None:
    for attribute in span.get("attributes", []):
        if attribute["key"] == key:
            value = attribute["value"]
            return str(value.get("stringValue", value.get("intValue", "")))
    return None


def _service(span: dict[str, Any]) -> str:
    return str(span.get("service") or "?").removeprefix("switchboard-")


def build(trace_dir: Path, contact_id: str) -> Waterfall | None:
    spans = read_spans(trace_dir)
    trace_ids = sorted(
        {s["traceId"] for s in spans if _attribute(s, "switchboard.contact_id") == contact_id}
    )
    mine = [s for s in spans if s["traceId"] in trace_ids]
    if not mine:
        return None
    by_id = {s["spanId"]: s for s in mine}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in mine:
        parent = span.get("parentSpanId")
        children.setdefault(parent if parent in by_id else None, []).append(span)
    start = min(int(s["startTimeUnixNano"]) for s in mine)
    end = max(int(s["endTimeUnixNano"]) for s in mine)
    rows: list[Row] = []

    def walk(span: dict[str, Any], depth: int) -> None:
        began, ended = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
        failed = span.get("status", {}).get("code") == ERROR
        rows.append(
            Row(
                depth,
                _service(span),
                span["name"],
                (began - start) / 1e6,
                (ended - began) / 1e6,
                failed,
            )
        )
        for child in sorted(
            children.get(span["spanId"], []), key=lambda s: int(s["startTimeUnixNano"])
        ):
            walk(child, depth + 1)

    for root in sorted(children.get(None, []), key=lambda s: int(s["startTimeUnixNano"])):
        walk(root, 0)
    gaps = [
        Gap(
            f"{_service(by_id[s['parentSpanId']])}:{by_id[s['parentSpanId']]['name']}",
            f"{_service(s)}:{s['name']}",
            (int(s["startTimeUnixNano"]) - int(by_id[s["parentSpanId"]]["endTimeUnixNano"])) / 1e6,
        )
        for s in mine
        if s.get("parentSpanId") in by_id and _service(by_id[s["parentSpanId"]]) != _service(s)
    ]
    longest = max(gaps, key=lambda gap: gap.ms) if gaps else None
    return Waterfall(contact_id, trace_ids, (end - start) / 1e6, rows, longest)


def render(waterfall: Waterfall, console: Console, width: int = 40) -> None:
    total = waterfall.total_ms or 1.0
    console.print(f"contact {waterfall.contact_id}  trace {', '.join(waterfall.trace_ids)}")
    for row in waterfall.rows:
        offset = int(row.start_ms / total * width)
        length = max(1, round(row.duration_ms / total * width))
        bar = " " * offset + "█" * min(length, width - offset)
        name = ("  " * row.depth + row.operation)[:44]
        line = Text(
            f"{row.service:<11}{name:<45}{row.start_ms:>9.1f} ms {row.duration_ms:>8.1f} ms  "
        )
        line.append(f"{bar:<{width}}", style="red" if row.error else "cyan")
        if row.error:
            line.append("  error", style="bold red")
        console.print(line)
    console.print(f"total from arrival to the last span: {waterfall.total_ms:.1f} ms")
    if waterfall.longest_gap:
        gap = waterfall.longest_gap
        console.print(f"longest gap between services: {gap.ms:.1f} ms ({gap.after} → {gap.before})")


def as_json(waterfall: Waterfall) -> str:
    return json.dumps(asdict(waterfall))
