"""Tracing: one OpenTelemetry tracer provider per process, spans batched off the hot path and
redacted of personal details before they leave the process.

With `SWITCHBOARD_OTLP_ENDPOINT` set, spans go to that collector over OTLP/HTTP. Otherwise they are
appended to `<var_dir>/traces/<service>.jsonl` in the OTLP JSON encoding (one
ExportTraceServiceRequest per line, ids in hex, as the OpenTelemetry Collector's file exporter
writes them), which `switchboard trace` and the tests read.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import propagate
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from switchboard.common.compliance.redaction import redact, redact_value
from switchboard.common.settings import Settings


class OtlpJsonFileExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = json.dumps(otlp_json(spans), separators=(",", ":")) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as file:
            file.write(line)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class RedactingExporter(SpanExporter):
    """Hands spans on with personal details redacted from attributes, events and status."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([_redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


RUNTIME_ATTRIBUTES = frozenset(
    {
        "messaging.system",
        "messaging.operation",
        "messaging.destination.name",
        "messaging.kafka.destination.partition",
        "messaging.kafka.message.offset",
        "messaging.consumer.group.name",
        "messaging.message.id",
        "http.request.method",
        "http.response.status_code",
        "switchboard.tenant_id",
        "switchboard.contact_id",
        "switchboard.job_id",
    }
)
"""Span attributes whose values the runtime itself makes (topic and group names, offsets, our
UUIDs, an HTTP method or status): never a personal detail, so not scanned. Scanning them was
about 20 µs of the exporter's CPU a span, a seventh of what a consumed record's span costs
(`deploy/CAPACITY.md`, the tenth round). A URL's path, a message's key and every other attribute
are still scanned."""


def _redacted(span: ReadableSpan) -> ReadableSpan:
    """`span` with its personal details redacted: the span itself when it had none (most carry only
    ids and names), a copy otherwise."""
    attributes = dict(span.attributes or {})
    clean = {
        key: value if key in RUNTIME_ATTRIBUTES else redact_value(value, key)
        for key, value in attributes.items()
    }
    status = span.status
    if status.description:
        described = redact(status.description)
        if described != status.description:
            status = Status(status.status_code, described)
    events = [(e, redact_value(dict(e.attributes or {}))) for e in span.events]
    if (
        clean == attributes
        and status is span.status
        and all(redacted == (e.attributes or {}) for e, redacted in events)
    ):
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=clean,
        events=[Event(e.name, redacted, e.timestamp) for e, redacted in events],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """An ExportTraceServiceRequest in the OTLP/JSON encoding (hex ids, enums as integers, 64-bit
    integers as strings, empty fields left out), written straight from the spans: going through
    the protobuf message and its JSON printer cost four times as much."""
    resources: dict[int, tuple[Any, dict[tuple[str, str | None], list[dict[str, Any]]]]] = {}
    for span in spans:
        _, scopes = resources.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version) if scope is not None else ("", None)
        scopes.setdefault(key, []).append(_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource.attributes)},
                "scopeSpans": [
                    {
                        "scope": {"name": name, **({"version": version} if version else {})},
                        "spans": encoded,
                    }
                    for (name, version), encoded in scopes.items()
                ],
            }
            for resource, scopes in resources.values()
        ]
    }


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    encoded: dict[str, Any] = {
        "traceId": format(context.trace_id, "032x"),
        "spanId": format(context.span_id, "016x"),
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    if span.parent is not None:
        encoded["parentSpanId"] = format(span.parent.span_id, "016x")
    encoded.update(
        name=span.name,
        kind=span.kind.value + 1,  # OTLP counts from SPAN_KIND_UNSPECIFIED = 0
        startTimeUnixNano=str(span.start_time),
        endTimeUnixNano=str(span.end_time),
    )
    if span.attributes:
        encoded["attributes"] = _attributes(span.attributes)
    if span.events:
        encoded["events"] = [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                **({"attributes": _attributes(event.attributes)} if event.attributes else {}),
            }
            for event in span.events
        ]
    if span.links:
        encoded["links"] = [
            {
                "traceId": format(link.context.trace_id, "032x"),
                "spanId": format(link.context.span_id, "016x"),
                **({"attributes": _attributes(link.attributes)} if link.attributes else {}),
            }
            for link in span.links
        ]
    status: dict[str, Any] = {}
    if span.status.status_code is not StatusCode.UNSET:
        status["code"] = span.status.status_code.value
    if span.status.description:
        status["message"] = span.status.description
    encoded["status"] = status
    remote = span.parent is not None and span.parent.is_remote
    encoded["flags"] = _HAS_IS_REMOTE | (_IS_REMOTE if remote else 0)
    return encoded


_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200
"""OTLP's span flags: whether the parent's remoteness is known, and whether it was remote."""


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in (attributes or {}).items()]


def _any_value(value: Any) -> dict[str, Any]:
    encode = _ENCODINGS.get(type(value))
    if encode is not None:
        return encode(value)
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_any_value(item) for item in value]}}
    return {"stringValue": str(value)}


_ENCODINGS: dict[type, Callable[[Any], dict[str, Any]]] = {
    str: lambda value: {"stringValue": value},
    bool: lambda value: {"boolValue": value},
    int: lambda value: {"intValue": str(value)},
    float: lambda value: {"doubleValue": value},
}
"""OTLP's AnyValue for each type an attribute holds (looked up by exact type: a bool is an int)."""


def build_tracer_provider(*, service: str, settings: Settings) -> TracerProvider:
    resource = Resource.create({"service.name": f"switchboard-{service}"})
    if not settings.tracing:
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    provider = TracerProvider(resource=resource)
    exporter: SpanExporter
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint.rstrip("/") + "/v1/traces")
    else:
        exporter = OtlpJsonFileExporter(settings.trace_dir / f"{service}.jsonl")
    provider.add_span_processor(
        BatchSpanProcessor(RedactingExporter(exporter), schedule_delay_millis=500)
    )
    return provider


@contextlib.contextmanager
def continued_span(
    tracer: Tracer,
    traceparent: str | None,
    name: str,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    job_id: str | None = None,
) -> Iterator[None]:
    """Work done later for a contact or job (a timer firing, an agent's command, an offer made when
    an agent became free) as a span of the trace it belongs to, from the `traceparent` kept when
    that trace passed by; what the work emits continues the trace. The span carries the ids it is
    about (`switchboard.<id>`), never anything else about the customer."""
    ids = {"tenant_id": tenant_id, "contact_id": contact_id, "job_id": job_id}
    attributes = {f"switchboard.{key}": value for key, value in ids.items() if value}
    parent = propagate.extract({"traceparent": traceparent or ""})
    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
    ):
        yield


def read_spans(trace_dir: Path) -> list[dict[str, Any]]:
    """Every span in the OTLP JSON files under `trace_dir`, each with its `service` name added.
    A file's last line still being written by its service (no newline yet) is left for the next
    read."""
    spans: list[dict[str, Any]] = []
    for file in sorted(trace_dir.glob("*.jsonl")):
        text = file.read_text(encoding="utf-8")
        for line in text[: text.rfind("\n") + 1].splitlines():
            if not line.strip():
                continue
            for resource_spans in json.loads(line).get("resourceSpans", []):
                attributes = resource_spans.get("resource", {}).get("attributes", [])
                service = next(
                    (
                        a["value"].get("stringValue")
                        for a in attributes
                        if a["key"] == "service.name"
                    ),
                    None,
                )
                for scope_spans in resource_spans.get("scopeSpans", []):
                    for span in scope_spans.get("spans", []):
                        spans.append({**span, "service": service})
    return spans
