"""Tracing: one OpenTelemetry tracer provider per process, spans batched off the hot path and
redacted of personal details before they leave the process.

With `SWITCHBOARD_OTLP_ENDPOINT` set, spans go to that collector over OTLP/HTTP. Otherwise they are
appended to `<var_dir>/traces/<service>.jsonl` in the OTLP JSON encoding (one
ExportTraceServiceRequest per line, ids in hex, as the OpenTelemetry Collector's file exporter
writes them), which `switchboard trace` and the tests read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, Status, Tracer

from switchboard.common.compliance.redaction import redact, redact_value
from switchboard.common.settings import Settings

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpJsonFileExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        document = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
        _hex_ids(document)
        line = json.dumps(document, separators=(",", ":")) + "\n"
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


def _redacted(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    if status.description:
        status = Status(status.status_code, redact(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=redact_value(dict(span.attributes or {})),
        events=[
            Event(e.name, redact_value(dict(e.attributes or {})), e.timestamp) for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _hex_ids(node: Any) -> None:
    """OTLP/JSON writes trace and span ids as hex, not protobuf-JSON's base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


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
    """Every span in the OTLP JSON files under `trace_dir`, each with its `service` name added."""
    spans: list[dict[str, Any]] = []
    for file in sorted(trace_dir.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
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
