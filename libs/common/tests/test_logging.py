"""The one logging set-up: our structlog lines and the libraries' stdlib lines come out as one JSON
stream, in order, redacted, gathered until a warning or the flush timer writes them."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from switchboard.common.logging import configure_logging


@pytest.fixture
def stdout(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(service="svc", level="INFO")
    yield out
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_our_lines_and_the_libraries_are_one_redacted_json_stream(stdout: io.StringIO) -> None:
    log = structlog.get_logger("switchboard.test")
    log.info("message", contact_id="c-1", email="ann@example.com", note="call 0412 345 678")
    log.debug("below the level")
    logging.getLogger("uvicorn.error").info("started %s", "here")
    assert stdout.getvalue() == ""  # gathered, not written one by one
    try:
        raise ZeroDivisionError("no")
    except ZeroDivisionError:
        log.exception("failed", contact_id="c-2")  # an error takes what was gathered with it

    ours, theirs, failed = (json.loads(line) for line in stdout.getvalue().splitlines())
    assert ours["event"] == "message" and ours["level"] == "info"
    assert ours["logger"] == "switchboard.test" and ours["service"] == "svc"
    assert ours["contact_id"] == "c-1"
    assert ours["email"] == "[redacted]" and ours["note"] == "call [phone]"
    assert ours["timestamp"].endswith("Z")
    assert theirs == {
        **theirs,
        "event": "started here",
        "logger": "uvicorn.error",
        "service": "svc",
    }
    assert failed["level"] == "error" and failed["contact_id"] == "c-2"
    assert "ZeroDivisionError: no" in failed["exception"]


def test_a_line_inside_a_span_carries_its_trace(stdout: io.StringIO) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        structlog.get_logger("switchboard.test").warning("inside")
    [line] = (json.loads(text) for text in stdout.getvalue().splitlines())
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
