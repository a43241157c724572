from collections.abc import Sequence

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from switchboard.common import telemetry
from switchboard.common.settings import Settings
from switchboard.common.telemetry import (
    RedactingExporter,
    build_tracer_provider,
    continued_span,
    read_spans,
)


def test_spans_are_written_as_otlp_json_with_hex_ids(tmp_path) -> None:
    provider = build_tracer_provider(service="unit", settings=Settings(var_dir=tmp_path))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span("child"),
    ):
        pass
    provider.shutdown()
    spans = read_spans(tmp_path / "traces")
    assert {s["name"] for s in spans} == {"parent", "child"}
    by_name = {s["name"]: s for s in spans}
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert by_name["parent"]["traceId"] == trace_id == by_name["child"]["traceId"]
    assert by_name["child"]["parentSpanId"] == by_name["parent"]["spanId"]
    assert len(by_name["parent"]["spanId"]) == 16
    assert by_name["parent"]["kind"] == 2  # SERVER, as an integer per OTLP/JSON
    assert all(s["service"] == "switchboard-unit" for s in spans)


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path) -> None:
    provider = build_tracer_provider(service="unit", settings=Settings(var_dir=tmp_path))
    with provider.get_tracer("test").start_as_current_span("whole"):
        pass
    provider.shutdown()
    [file] = (tmp_path / "traces").glob("*.jsonl")
    whole = file.read_text(encoding="utf-8")
    file.write_text(whole + whole[: len(whole) // 2], encoding="utf-8")  # an export half written
    assert [s["name"] for s in read_spans(tmp_path / "traces")] == ["whole"]


class _Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_spans_leave_redacted_and_one_with_nothing_to_redact_leaves_as_it_is() -> None:
    finished = _Kept()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("ids only", attributes={"switchboard.contact_id": "c-1"}):
        pass
    with tracer.start_as_current_span("failed", attributes={"email": "ann@example.com"}) as span:
        span.add_event("called", {"note": "call 0412 345 678"})
        span.set_status(Status(StatusCode.ERROR, "no answer from ann@example.com"))
    with tracer.start_as_current_span("failed plainly") as span:
        span.set_status(Status(StatusCode.ERROR, "the broker was away"))
    exported = _Kept()
    RedactingExporter(exported).export(finished.spans)
    ids_only, failed, plainly = exported.spans
    assert ids_only is finished.spans[0]  # nothing to redact: not copied
    assert ids_only.attributes == {"switchboard.contact_id": "c-1"}
    assert failed.attributes == {"email": "[redacted]"}
    assert failed.events[0].attributes == {"note": "call [phone]"}
    assert failed.status.description == "no answer from [email]"
    assert failed.status.status_code is StatusCode.ERROR
    assert plainly is finished.spans[2]
    assert plainly.status.description == "the broker was away"


def test_a_sampled_centre_keeps_or_drops_each_contacts_trace_whole(tmp_path, monkeypatch) -> None:
    """OpenTelemetry's own sampler settings reach every service's tracer: the decision is made
    where a trace starts (intake) and every span that continues it, in any service, follows it."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0")  # keep none that start here
    provider = build_tracer_provider(service="unit", settings=Settings(var_dir=tmp_path))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("started here") as started:
        assert not started.is_recording()
        dropped = _traceparent()
    kept = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    for traceparent, recorded in ((dropped, False), (kept, True)):
        with continued_span(tracer, traceparent, "continued", tenant_id="t"):
            assert trace.get_current_span().is_recording() is recorded
    provider.shutdown()
    assert [s["name"] for s in read_spans(tmp_path / "traces")] == ["continued"]


def _traceparent() -> str:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier["traceparent"]


def test_what_the_runtime_sets_is_not_scanned_and_everything_else_still_is(monkeypatch) -> None:
    finished = _Kept()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    ours = {
        "messaging.system": "kafka",
        "messaging.destination.name": "contact.received",
        "messaging.kafka.message.offset": 41,
        "messaging.message.id": "01a24867-988c-7274-9bdf-f9b98622e5f5",
        "switchboard.contact_id": "01a24867-988c-7274-9bdf-f9b98622e5f6",
    }
    theirs = {
        "url.path": "/v1/customers/ann@example.com",
        "messaging.kafka.message.key": "0412345678",
    }
    with provider.get_tracer("test").start_as_current_span("mixed", attributes={**ours, **theirs}):
        pass
    scanned: list[str | None] = []
    scan = telemetry.redact_value

    def counted(value: object, key: str | None = None) -> object:
        scanned.append(key)
        return scan(value, key)

    monkeypatch.setattr(telemetry, "redact_value", counted)
    exported = _Kept()
    RedactingExporter(exported).export(finished.spans)
    assert sorted(k for k in scanned if k is not None) == sorted(theirs)
    assert exported.spans[0].attributes == {
        **ours,
        "url.path": "/v1/customers/[email]",
        "messaging.kafka.message.key": "[phone]",
    }
