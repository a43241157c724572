"""One email is one trace, with spans from intake, routing, escalation (its SLA clock starts on
contact.queued), recording and the desktop in causal order."""

from __future__ import annotations

import time

from switchboard.common.telemetry import read_spans
from tests.integration.harness import RunningCentre

SERVER, PRODUCER, CONSUMER = 2, 4, 5  # OTLP span kinds
SERVICES = {
    "switchboard-intake",
    "switchboard-routing",
    "switchboard-recording",
    "switchboard-desktop",
    "switchboard-escalation",
    "switchboard-workforce",  # it counts the contact in its queue's history
}


def _attribute(span: dict, key: str) -> str | None:
    for attribute in span.get("attributes", []):
        if attribute["key"] == key:
            return attribute["value"].get("stringValue")
    return None


def test_one_email_is_one_trace_across_the_services(centre: RunningCentre) -> None:
    accepted = centre.post_email(centre.email(subject="Trace me")).json()
    contact_id = accepted["contact_id"]
    centre.wait_contact(contact_id)
    deadline = time.monotonic() + 30
    while True:
        spans = read_spans(centre.settings.trace_dir)
        mine = [s for s in spans if _attribute(s, "switchboard.contact_id") == contact_id]
        trace_ids = {s["traceId"] for s in mine}
        trace = [s for s in spans if s["traceId"] in trace_ids]
        consumed = [
            s for s in trace if s["service"] == "switchboard-recording" and s["kind"] == CONSUMER
        ]
        # Each service exports its spans in batches as they end; a span can end (and be
        # written) after its children, so wait until every hop of the chain is on disk.
        span_ids = {s["spanId"] for s in trace}
        orphans = [s for s in trace if s.get("parentSpanId", s["spanId"]) not in span_ids]
        complete = len(consumed) >= 2 and not orphans and {s["service"] for s in trace} >= SERVICES
        if complete or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert len(trace_ids) == 1, "one contact, one trace"
    roots = [s for s in trace if "parentSpanId" not in s]
    assert len(roots) == 1, sorted(f"{s['service']}:{s['name']}" for s in trace)
    [root] = roots
    assert (
        root["name"] == "POST /v1/email"
        and root["kind"] == SERVER
        and root["service"] == "switchboard-intake"
    )
    assert {s["service"] for s in trace} == SERVICES
    by_id = {s["spanId"]: s for s in trace}
    assert all(s["parentSpanId"] in by_id for s in trace if s is not root), (
        "every span's parent is in the trace"
    )
    for span in trace:  # causal order: nothing starts before its parent
        if span is not root:
            assert int(span["startTimeUnixNano"]) >= int(
                by_id[span["parentSpanId"]]["startTimeUnixNano"]
            )

    def chain(span: dict) -> list[str]:
        names = []
        while span is not None:
            names.append(f"{span['service'].removeprefix('switchboard-')}:{span['name']}")
            span = by_id.get(span.get("parentSpanId", ""))
        return list(reversed(names))

    queued = next(s for s in consumed if s["name"] == "contact.queued process")
    assert chain(queued) == [
        "intake:POST /v1/email",
        "intake:contact.received publish",
        "routing:contact.received process",
        "routing:contact.queued publish",
        "recording:contact.queued process",
    ]
