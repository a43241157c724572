"""The HTTP host every service runs in: FastAPI with `/healthz` and `/metrics`, and a lifespan that
waits for the database (its schema is migrated before any service starts: `switchboard migrate`),
brings up the topics, the broker's subscribers and the outbox relay, and takes them down in the
reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.broker import consumer_group, ensure_topics, partitions_for
from switchboard.common.errors import InvalidInput
from switchboard.common.offsets import Offsets
from switchboard.common.outbox import EventTooLarge
from switchboard.common.runtime import Runtime, Transaction

log = structlog.get_logger("switchboard.service")

Hook = Callable[[Runtime], Awaitable[None]]
Background = Callable[[Runtime], Coroutine[Any, Any, None]]
"""Work that runs for the life of the process (started with the service, cancelled at stop)."""


def build_http(
    runtime: Runtime,
    *,
    title: str,
    prepare: Hook | None = None,
    on_start: Hook | None = None,
    on_stop: Hook | None = None,
    background: Sequence[Background] = (),
) -> FastAPI:
    """`prepare` runs before the service consumes its first message (to load state its handlers
    rely on); `on_start` once it is consuming and publishing; `background` tasks from then until
    the service stops."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await _retrying("database", runtime.db.ping)
        settings = runtime.settings
        partitions = partitions_for(settings)
        await _retrying(
            "topics", lambda: ensure_topics(settings.kafka_bootstrap, partitions=partitions)
        )
        if prepare is not None:
            await _retrying("preparation", lambda: prepare(runtime))
        await runtime.broker.start()
        await _retrying("outbox producer", runtime.sender.start)
        await runtime.relay.start()
        if on_start is not None:
            await on_start(runtime)
        tasks = [asyncio.create_task(work(runtime)) for work in background]
        tasks.append(asyncio.create_task(_watch_loop(loop_lag)))
        if runtime.consumes:
            tasks.append(asyncio.create_task(_export_lag(runtime, lag)))
        log.info("service started", port=runtime.settings.port_of(runtime.service))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if on_stop is not None:
                await on_stop(runtime)
            await runtime.relay.stop()
            await runtime.sender.stop()
            if runtime.commits is not None:
                await runtime.commits.stop()
            await runtime.broker.stop()
            await runtime.db.dispose()
            runtime.tracer_provider.shutdown()
            log.info("service stopped")

    lag = Gauge(
        "switchboard_consumer_lag",
        "Records not yet committed by this service's consumer group, per partition",
        ["topic", "partition"],
        registry=runtime.metrics,
    )
    loop_lag = Histogram(
        "switchboard_event_loop_lag_seconds",
        "How late the event loop woke a task that asked to wake; over a few tenths of a second, "
        "something blocked the loop (or the machine gave the process no CPU)",
        buckets=LOOP_LAG_BUCKETS,
        registry=runtime.metrics,
    )
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.runtime = runtime
    app.add_middleware(RequestSpans, tracer=runtime.tracer_provider.get_tracer("switchboard.http"))

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:
        """200 only when this process reaches both its broker and its database."""
        checks = {
            "database": await _check(runtime.db.ping()),
            "broker": await _check(_ping_broker(runtime)),
        }
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "service": runtime.service, **checks},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(InvalidInput)
    async def invalid_input(_request: Request, error: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    @app.exception_handler(EventTooLarge)
    async def too_large(_request: Request, error: EventTooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=413)

    return app


class RequestSpans:
    """A SERVER span per API request (`/v1/...`), continuing a caller's W3C trace context if it
    sent one. Plain ASGI: no extra task per request, unlike Starlette's BaseHTTPMiddleware."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        name = f"{scope['method']} {scope['path']}"
        with self.tracer.start_as_current_span(
            name, context=propagate.extract(headers), kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(StatusCode.ERROR)
                await send(message)

            await self.app(scope, receive, send_with_status)


LAG_INTERVAL_SECONDS = 15.0
LOOP_WATCH_SECONDS = 0.5
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


async def _watch_loop(histogram: Histogram) -> None:
    """`switchboard_event_loop_lag_seconds`: twice a second, how much later than asked the loop
    woke this task. Every request and message waits that long too; work that holds the loop (CPU
    in a handler, a blocking call) shows here before it shows as timeouts."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + LOOP_WATCH_SECONDS
        await asyncio.sleep(LOOP_WATCH_SECONDS)
        histogram.observe(max(0.0, loop.time() - asked))


async def _export_lag(runtime: Runtime, gauge: Gauge) -> None:
    """`switchboard_consumer_lag{topic,partition}`: records not yet committed by this service's
    group, refreshed every 15 s (what an autoscaler on lag, such as KEDA, reads too)."""
    offsets = Offsets(runtime.settings.kafka_bootstrap)
    try:
        await offsets.start()
        while True:
            try:
                lag = await offsets.lag(consumer_group(runtime.service), runtime.consumes)
                for tp, behind in lag.items():
                    gauge.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, behind))
            except Exception as error:  # the broker away: the next round catches up
                log.warning("consumer lag not read", error=repr(error))
            await asyncio.sleep(LAG_INTERVAL_SECONDS)
    finally:
        await offsets.stop()


async def _ping_broker(runtime: Runtime) -> None:
    if not await runtime.broker.ping(timeout=2.0):
        raise ConnectionError("broker unreachable")


async def repeat(
    runtime: Runtime,
    job: Callable[[Transaction], Awaitable[object]],
    *,
    every: float,
    name: str,
    at_start: bool = True,
) -> None:
    """Run `job` in its own transaction (which may emit events) every `every` seconds, for ever
    (a `background` task). A failed run (the database away) is logged; the next one catches up."""
    if not at_start:
        await asyncio.sleep(every)
    while True:
        try:
            async with runtime.transaction() as tx:
                await job(tx)
        except Exception as error:
            log.warning("periodic job failed; the next run retries", job=name, error=repr(error))
        await asyncio.sleep(every)


async def _check(probe: Awaitable[None]) -> str:
    try:
        await asyncio.wait_for(probe, 3.0)
    except Exception as error:
        return f"failing: {type(error).__name__}: {error}"[:300]
    return "ok"


async def _retrying(what: str, action: Callable[[], Awaitable[None]], attempts: int = 30) -> None:
    """Start-up steps wait for their dependency (the broker or database may start after us)."""
    for attempt in range(1, attempts + 1):
        try:
            await action()
            return
        except Exception as error:
            if attempt == attempts:
                raise
            log.warning("start-up step failed; retrying", step=what, error=repr(error))
            await asyncio.sleep(min(0.2 * attempt, 2.0))
