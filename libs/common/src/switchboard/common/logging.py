"""One logging setup for every process: structlog, JSON lines on stdout, personal details redacted.

Every line carries the service name, the current trace and span ids (so logs join traces on
`trace_id`) and whatever ids a handler bound with structlog's contextvars (contact_id, tenant_id,
event_id). The standard library's loggers (uvicorn, aiokafka, FastStream) go through the same
renderer, so the whole stream is JSON.

Our own lines (structlog's) are rendered by structlog and handed straight to the process's one
batched handler, not through the standard library's logging: a consumer writes a line per handled
message, and a `LogRecord`, the logger hierarchy and a formatter per line cost as much as the
rendering itself (`deploy/CAPACITY.md`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, TextIO

import structlog
from opentelemetry import trace

from switchboard.common.compliance.redaction import redact_log_event


def _add_trace_ids(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


FLUSH_WITHIN_SECONDS = 0.2
"""How long an INFO line may wait in the buffer before it is written out."""


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """A stream handler that gathers lines and writes them together once per
    `FLUSH_WITHIN_SECONDS` (at once for a warning or worse), not one write and flush per line: each
    is a system call (stdout is unbuffered in the image), and under load one per handled message
    cost more than formatting the line. What is gathered is written when the process exits
    normally (`logging.shutdown` flushes every handler)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._flush_due = False
        self._lines_waiting = threading.Event()
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.write(line, urgent=record.levelno >= logging.WARNING)

    def write(self, line: str, *, urgent: bool) -> None:
        """Gather `line`; write everything gathered at once when it is `urgent` (a warning)."""
        self.acquire()
        try:
            self._pending.append(line + self.terminator)
            if not urgent and not self._flush_due:
                self._flush_due = True
                if self._flusher is None:
                    self._flusher = threading.Thread(
                        target=self._flush_when_due, name="log-flusher", daemon=True
                    )
                    self._flusher.start()
                self._lines_waiting.set()
        finally:
            self.release()
        if urgent:
            self.flush()

    def _flush_when_due(self) -> None:
        """The one thread that writes gathered lines out, `FLUSH_WITHIN_SECONDS` after the first
        of them. (A `threading.Timer` each time started a thread five times a second under load,
        about 1.5 % of a consumer's CPU.)"""
        while True:
            self._lines_waiting.wait()
            self._lines_waiting.clear()
            time.sleep(FLUSH_WITHIN_SECONDS)
            self.flush()

    def flush(self) -> None:
        self.acquire()  # emit runs under this lock too (Handler.handle takes it)
        try:
            self._flush_due = False
            lines, self._pending = self._pending, []
            if lines:
                self.stream.write("".join(lines))
            super().flush()
        finally:
            self.release()


class _Lines:
    """structlog's logger for our own lines: each arrives rendered, and goes to the batched
    handler (a warning or worse at once)."""

    def __init__(self, handler: BatchedStreamHandler, name: str) -> None:
        self._handler = handler
        self.name = name

    def info(self, line: str) -> None:
        self._handler.write(line, urgent=False)

    def warning(self, line: str) -> None:
        self._handler.write(line, urgent=True)

    debug = info
    error = critical = exception = warning


def configure_logging(*, service: str, level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        lambda _l, _m, event_dict: {**event_dict, "service": service},
    ]
    rendering: list[Any] = [
        structlog.processors.format_exc_info,
        redact_log_event,
        structlog.processors.JSONRenderer(),
    ]
    handler = BatchedStreamHandler(sys.stdout)
    structlog.configure(
        processors=[*shared, *rendering],
        logger_factory=lambda name="": _Lines(handler, name),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in ("uvicorn", "uvicorn.error", "faststream"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
