"""The chaos suite's account (switchboard.cli.chaos): what the outside world handed in and was
told, checked against the record once the centre has drained, and printed."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from switchboard.cli.centre import Centre
from switchboard.cli.chaos_load import Ledger
from switchboard.cli.dlq import read_dead_letters
from switchboard.cli.status import collect
from switchboard.common import setaside
from switchboard.common.db import Database
from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY

DRAIN_SECONDS = 180.0
ONCE = ("contact.received", "contact.assigned", "contact.wrapped")
"""Timeline entries a contact worked once has exactly one of."""


@dataclass
class FaultResult:
    fault: str
    seconds: float
    server_errors: dict[str, int]
    recovery_seconds: dict[str, float]


@dataclass
class Report:
    backend: str
    acknowledged: int
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    """Assigned, never wrapped: the agents' side, reported but not a loss."""
    given_up: list[str] = field(default_factory=list)
    stream_problems: list[str] = field(default_factory=list)
    dead_letters: dict[str, list[str]] = field(default_factory=dict)
    set_aside: list[str] = field(default_factory=list)
    faults: list[FaultResult] = field(default_factory=list)
    agents_at_end: list[str] = field(default_factory=list)
    """Routing's view of each agent once drained: who was free to take the stuck contacts."""
    lag_at_end: dict[str, int | None] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.stream_problems)


def account(centre: Centre, backend: str, ledger: Ledger) -> Report:
    report = Report(
        backend,
        len(ledger.acknowledged),
        given_up=ledger.given_up,
        stream_problems=ledger.stream_problems,
    )
    operator = {"Authorization": f"Bearer {centre.credentials['operator_token']}"}
    base = centre.settings.base_url("recording")
    pending = dict(ledger.acknowledged)
    deadline = time.monotonic() + DRAIN_SECONDS
    records: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=10, headers=operator) as client:
        while pending and time.monotonic() < deadline:
            for contact_id in list(pending):
                answer = client.get(f"{base}/v1/contacts/{contact_id}")
                if answer.status_code == 200 and answer.json()["status"] == "wrapped":
                    records[contact_id] = answer.json()
                    pending.pop(contact_id)
            time.sleep(1)
        for contact_id in pending:
            answer = client.get(f"{base}/v1/contacts/{contact_id}")
            if answer.status_code == 404:
                report.lost.append(contact_id)
                continue
            records[contact_id] = answer.json()
    for contact_id, record in records.items():
        kinds = [entry["event_type"] for entry in record["timeline"]]
        repeated = [kind for kind in ONCE if kinds.count(kind) > 1]
        if repeated:
            report.duplicated.append(f"{contact_id}: {', '.join(repeated)} twice")
        if "contact.assigned" not in kinds:
            report.stuck.append(f"{contact_id} ({record['status']})")
        elif "contact.wrapped" not in kinds:
            report.unfinished.append(contact_id)
    by_channel_id: dict[str, list[str]] = {}
    for contact_id, handed in ledger.acknowledged.items():
        by_channel_id.setdefault(handed.external_id, []).append(contact_id)
    report.duplicated += [
        f"{external}: contacts {', '.join(ids)}"
        for external, ids in by_channel_id.items()
        if len(ids) > 1
    ]
    report.duplicated += asyncio.run(_duplicate_contacts(centre.settings))
    report.dead_letters, report.set_aside = asyncio.run(_set_aside_and_dead(centre.settings))
    with httpx.Client(timeout=10, headers=operator) as client:
        agents = client.get(centre.settings.base_url("routing") + "/v1/agents").json()
    report.agents_at_end = [
        f"{a['agent_id']} {a['state']} contacts={len(a['contacts'])} offer={a['offer_id']}"
        for a in agents
    ]
    status = asyncio.run(collect(centre.settings))
    report.lag_at_end = {s.name: s.consumer_lag for s in status.services}
    return report


async def _duplicate_contacts(settings: Settings) -> list[str]:
    """Emails recorded as more than one contact (each the suite sends has a subject of its own)."""
    db = Database(settings.sqlalchemy_url_for("recording"))
    try:
        async with db.reader() as session:
            connection = await session.connection()
            rows = await connection.execute(
                text(
                    "SELECT subject, count(*) FROM recording_contact WHERE subject IS NOT NULL "
                    "GROUP BY subject HAVING count(*) > 1"
                )
            )
            return [f"{external}: {count} contacts" for external, count in rows.all()]
    finally:
        await db.dispose()


async def _set_aside_and_dead(settings: Settings) -> tuple[dict[str, list[str]], list[str]]:
    letters = await read_dead_letters(settings.kafka_bootstrap, *(t.dlq for t in REGISTRY))
    dead = {
        topic.name: [str(letter.summary()["reason"]) for letter in letters[topic.dlq]]
        for topic in REGISTRY
        if letters[topic.dlq]
    }
    held: list[str] = []
    for url in settings.database_urls:
        db = Database(url)
        try:
            async with db.reader() as session:
                held += [
                    f"{e.service} {e.loop} {e.ref}: {e.reason}"
                    for e in await setaside.listed(session)
                ]
        finally:
            await db.dispose()
    return dead, held


def render(report: Report) -> str:
    lines = [
        f"== {report.backend}: {report.acknowledged} contacts acknowledged ==",
        f"  lost (acknowledged, never recorded)      {len(report.lost)}",
        f"  duplicated records or timeline entries   {len(report.duplicated)}",
        f"  stuck (never assigned, agents free)      {len(report.stuck)}",
        f"  event stream ids skipped or repeated     {len(report.stream_problems)}",
        f"  assigned but not wrapped (agents' side)  {len(report.unfinished)}",
        f"  requests never answered 2xx in 120 s     {len(report.given_up)}",
    ]
    for problem in (report.lost + report.duplicated + report.stuck + report.stream_problems)[:20]:
        lines.append(f"    {problem}")
    lines.append(
        "  dead letters: "
        + (
            ", ".join(
                f"{topic} {len(reasons)} ({reasons[0][:80]})"
                for topic, reasons in report.dead_letters.items()
            )
            or "none"
        )
    )
    lines.append(f"  set aside: {len(report.set_aside)}")
    if report.stuck:
        lines.append("  consumer lag at the end: " + json.dumps(report.lag_at_end))
        lines += [f"    {agent}" for agent in report.agents_at_end]
    lines += [f"    {entry[:160]}" for entry in report.set_aside[:10]]
    lines.append(
        f"  {'fault':<28} {'took':>5}  {'5xx and failed connections during':<48} healthy again"
    )
    for fault in report.faults:
        errors = ", ".join(f"{k}: {v}" for k, v in fault.server_errors.items()) or "none"
        slowest = max(fault.recovery_seconds.items(), key=lambda kv: kv[1], default=("-", 0))
        lines.append(
            f"  {fault.fault:<28} {fault.seconds:>4.0f}s  {errors:<48} "
            f"all within {slowest[1]:.1f} s ({slowest[0]} last)"
        )
    lines.append("  PASSED" if report.passed else "  FAILED")
    return "\n".join(lines)
