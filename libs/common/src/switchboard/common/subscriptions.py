"""A service's event handlers, fed by ONE Kafka consumer in the service's consumer group, in batches.

One consumer per service, not one per topic: a group is the unit Kafka balances partitions over, so
one group per service is what replicas share; and each group join costs the embedded broker a fixed
5 s, which one consumer pays once. Records come in batches (up to `batch_size`), applied together in
one transaction as switchboard.common.delivery describes; each record gets its own CONSUMER span,
continuing the trace its producer started, so one contact stays one trace.

    subscriptions = Subscriptions("recording")

    @subscriptions.on(topics.CONTACT_RECEIVED)
    async def on_contact_received(event: Envelope[ContactReceived], tx: Transaction) -> None: ...

A handler is called once per event id (the framework claims it in the idempotency ledger) and
changes state only through `tx`. Raw channel topics (not envelopes) get `on_raw` handlers, called
one record at a time with the runtime; they keep their own idempotency (intake's receipts).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import structlog
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.broker import consumer_group, membership_for
from switchboard.common.commits import Commits
from switchboard.common.delivery import (
    DeadLetters,
    DeliveryMetrics,
    Record,
    classify,
    in_produced_order,
)
from switchboard.common.envelope import Envelope, peek
from switchboard.common.pacing import ASK_WAIT_MS, FETCHER_WAKE_MS, PROMPT, Pacing, Promptness
from switchboard.common.runtime import Runtime, Transaction
from switchboard.common.topics import Topic

log = structlog.get_logger("switchboard.consumer")

EventHandler = Callable[[Any, Transaction], Awaitable[None]]
RawHandler = Callable[[Record, Runtime], Awaitable[None]]
Prefetch = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[None]]
H = TypeVar("H", bound=Callable[..., Awaitable[None]])


@dataclass(frozen=True)
class _Route:
    topic: Topic
    model: type[Envelope[Any]] | None
    handle: Callable[..., Awaitable[None]]


class Handlers:
    """Handlers by topic: a service's `Subscriptions`, or a group of them in a module of its own
    that the service `include`s (as FastAPI's routers are)."""

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}

    def on(self, topic: Topic) -> Callable[[H], H]:
        """Register an envelope handler `(event, tx)` for `topic`."""
        assert topic.envelope, f"{topic.name} is a raw topic: use on_raw"

        def register(handle: H) -> H:
            model = cast("type[Envelope[Any]]", cast(Any, Envelope)[topic.payload])
            self._routes[topic.name] = _Route(topic, model, handle)
            return handle

        return register

    def on_raw(self, topic: Topic) -> Callable[[H], H]:
        """Register a raw-record handler `(record, runtime)` for a channel system's raw topic."""
        assert not topic.envelope, f"{topic.name} carries envelopes: use on"

        def register(handle: H) -> H:
            self._routes[topic.name] = _Route(topic, None, handle)
            return handle

        return register


class Subscriptions(Handlers):
    def __init__(
        self,
        service: str,
        *,
        emits: Sequence[Topic] = (),
        batch_size: int = 200,
        prefetch: Prefetch | None = None,
        promptness: Promptness = PROMPT,
    ) -> None:
        super().__init__()
        self.service = service
        self.batch_size = batch_size
        self.promptness = promptness
        """How soon the consumer must see a record (`pacing.PROMPT` or `pacing.UNHURRIED`)."""
        self.prefetch = prefetch
        """Loads, in a few queries, the rows a batch's handlers will look up one by one (so their
        look-ups find them in the session instead of making a round trip each)."""
        self.emits = tuple(emits)
        """What the service publishes: declared in its AsyncAPI document, and the only topics its
        transactions may emit to."""

    def include(self, *groups: Handlers) -> None:
        """Take the handlers of `groups` in: a topic has one handler in a service."""
        for group in groups:
            twice = self._routes.keys() & group._routes.keys()
            if twice:
                raise ValueError(f"{self.service} handles {sorted(twice)} twice")
            self._routes.update(group._routes)

    @property
    def topics(self) -> list[Topic]:
        return [route.topic for route in self._routes.values()]

    def delivery(self, runtime: Runtime) -> Delivery:
        """What applies the records this service's consumer reads (`attach` feeds it; the runtime's
        bench drives it directly)."""
        return Delivery(self._routes, runtime, self.prefetch)

    def attach(self, runtime: Runtime) -> None:
        """Subscribe the runtime's broker to every registered topic with one batching consumer,
        and declare the topics the service emits."""
        runtime.emits = frozenset(topic.name for topic in self.emits)
        runtime.consumes = tuple(topic.name for topic in self.topics)
        for topic in self.emits:
            runtime.broker.publisher(
                topic.name,
                title=f"{self.service}:{topic.name}",
                description=f"{topic.description} Key: {topic.key}.",
                schema=cast(Any, Envelope)[topic.payload],
            )
        if not self._routes:
            return
        delivery = self.delivery(runtime)
        membership = membership_for(runtime.settings)
        subscriber = runtime.broker.subscriber(
            *(topic.name for topic in self.topics),
            group_id=consumer_group(self.service),
            batch=True,
            max_records=self.batch_size,
            batch_timeout_ms=ASK_WAIT_MS,
            consumer_timeout_ms=FETCHER_WAKE_MS,
            fetch_max_wait_ms=self.promptness.idle_fetch_ms,
            ack_policy=AckPolicy.MANUAL,  # nacked below; acked in `Commits`' own time
            decoder=_undecoded,
            auto_offset_reset="earliest",
            session_timeout_ms=membership.session_timeout_ms,
            heartbeat_interval_ms=membership.heartbeat_interval_ms,
            title=f"{self.service}:consume",
            description=f"{self.service}'s one consumer (group {consumer_group(self.service)}), "
            "reading every topic here in batches; the producing service's document describes each.",
        )
        pacing = Pacing(
            subscriber,
            broker_holds_fetches=runtime.settings.on_embedded_broker,
            promptness=self.promptness,
        )
        commits = runtime.commits = Commits()
        context = runtime.broker.context

        @subscriber
        async def consume() -> None:
            """Takes no parameter: FastStream resolves a `KafkaMessage` parameter (a context field)
            in a worker thread, a hop to a thread and back for every batch (`CAPACITY.md`, the
            ninth round), where the message is one look in the broker's context away."""
            message: KafkaMessage = context.get_local("message")
            pacing.batch_seen()
            raw = message.raw_message
            records = list(raw) if isinstance(raw, tuple | list) else [raw]
            try:
                await delivery.apply(records)
            except BaseException:
                await message.nack()  # back to the batch's first records, to be applied again
                raise
            commits.applied(message.consumer, records)


async def _undecoded(_message: Any) -> None:
    """FastStream's decoder for the consumer: nothing. `Delivery` validates each record's value
    itself; FastStream's own decoding read every record of a batch as JSON for nobody."""


class Delivery:
    """Applies a batch of consumed records: each read as its envelope, claimed in the ledger and
    handled in one transaction, each with its span and its log line."""

    def __init__(
        self, routes: dict[str, _Route], runtime: Runtime, prefetch: Prefetch | None
    ) -> None:
        self.routes = routes
        self.runtime = runtime
        self.prefetch = prefetch
        self.metrics = DeliveryMetrics(runtime.metrics)
        self.tracer = runtime.tracer_provider.get_tracer("switchboard.consumer")
        self.max_attempts = runtime.settings.consumer_max_attempts

        async def publish(
            topic: str, key: bytes | None, value: bytes, headers: dict[str, str]
        ) -> Any:
            return await runtime.broker.publish(value, topic, key=key, headers=headers)

        self.dead_letters = DeadLetters(
            group=consumer_group(runtime.service), publish=publish, metrics=self.metrics
        )

    async def apply(self, records: list[Record]) -> None:
        events: list[tuple[Record, _Route, Envelope[Any]]] = []
        for record in in_produced_order(records):
            route = self.routes[record.topic]
            if route.model is None:
                await self._one(record, route, None)
                continue
            try:
                events.append((record, route, route.model.model_validate_json(record.value or b"")))
            except Exception as error:  # cannot be an event: no retry can change that
                await self.dead_letters.send(record, error, 1)
                self.log_line(record, "dead_lettered", 0.0, error)
        if events:
            await self._batch(events)

    async def _batch(self, events: list[tuple[Record, _Route, Envelope[Any]]]) -> None:
        started = time.perf_counter()
        outcomes: list[str] = []
        try:
            with self.metrics.batch_seconds.time():
                async with self.runtime.transaction() as tx:
                    claimed = await tx.claim([event for _, _, event in events])
                    if claimed and self.prefetch is not None:
                        await self.prefetch(tx.session, claimed)
                    new = {id(e) for e in claimed}
                    for record, route, event in events:
                        if id(event) not in new:
                            outcomes.append("duplicate")
                            continue
                        with (
                            self.span(record, event),
                            self.metrics.handler_seconds.labels(topic=record.topic).time(),
                        ):
                            await route.handle(event, tx)
                        outcomes.append("applied")
        except Exception as error:
            if classify(error) == "transient":
                log.warning(
                    "transient failure; batch will be redelivered",
                    error=repr(error),
                    size=len(events),
                )
                await asyncio.sleep(1.0)
                raise
            log.warning(
                "batch failed; applying its records one by one", error=repr(error), size=len(events)
            )
            for record, route, event in events:
                await self._one(record, route, event)
            return
        share = (time.perf_counter() - started) / len(events)
        for (record, _, event), outcome in zip(events, outcomes, strict=True):
            self.log_line(record, outcome, share, event=event)

    async def _handle(self, tx: Transaction, route: _Route, event: Envelope[Any]) -> str:
        if not await tx.claim([event]):
            return "duplicate"
        await route.handle(event, tx)
        return "applied"

    async def _one(self, record: Record, route: _Route, event: Envelope[Any] | None) -> None:
        """One record in its own transaction, retried, dead-lettered when it cannot be applied."""
        for attempt in range(1, self.max_attempts + 1):
            started = time.perf_counter()
            try:
                with self.span(record, event):
                    if event is None:
                        await route.handle(record, self.runtime)
                        outcome = "applied"
                    else:
                        async with self.runtime.transaction() as tx:
                            outcome = await self._handle(tx, route, event)
            except Exception as error:
                kind = classify(error)
                self.metrics.retries.labels(topic=record.topic, kind=kind).inc()
                if kind == "transient":
                    log.warning("transient failure; message will be redelivered", error=repr(error))
                    await asyncio.sleep(1.0)
                    raise
                if kind == "permanent" or attempt == self.max_attempts:
                    await self.dead_letters.send(record, error, attempt)
                    self.log_line(record, "dead_lettered", time.perf_counter() - started, error)
                    return
                await asyncio.sleep(0.2 * attempt)
            else:
                self.log_line(record, outcome, time.perf_counter() - started, event=event)
                return

    @contextlib.contextmanager
    def span(self, record: Record, event: Envelope[Any] | None) -> Iterator[Span]:
        """A CONSUMER span for one record, child of the context its producer put in its headers."""
        headers = {k: v.decode("latin-1") for k, v in record.headers or ()}
        attributes: dict[str, str | int] = {
            "messaging.system": "kafka",
            "messaging.operation": "process",
            "messaging.destination.name": record.topic,
            "messaging.kafka.destination.partition": record.partition,
            "messaging.kafka.message.offset": record.offset,
            "messaging.consumer.group.name": self.dead_letters.group,
        }
        if event is not None:
            attributes.update(
                {"messaging.message.id": event.event_id, "switchboard.tenant_id": event.tenant_id}
            )
            if event.contact_id:
                attributes["switchboard.contact_id"] = event.contact_id
        with self.tracer.start_as_current_span(
            f"{record.topic} process",
            context=propagate.extract(headers),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            record_exception=True,
            set_status_on_exception=True,
        ) as span:
            yield span

    def log_line(
        self,
        record: Record,
        outcome: str,
        seconds: float,
        error: BaseException | None = None,
        *,
        event: Envelope[Any] | None = None,
    ) -> None:
        """One log line per handled message: its ids, outcome and duration (joins traces on
        trace_id). The ids come from the event already read, or, for a record that is not one, from
        a second look at its value."""
        self.metrics.handled.labels(topic=record.topic, outcome=outcome).inc()
        fields: dict[str, Any] = (
            peek(record.value or b"")
            if event is None
            else {
                "event_id": event.event_id,
                "event_type": event.event_type,
                "contact_id": event.contact_id,
                "tenant_id": event.tenant_id,
            }
        )
        line = {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "event_id": fields.get("event_id"),
            "event_type": fields.get("event_type"),
            "contact_id": fields.get("contact_id"),
            "tenant_id": fields.get("tenant_id"),
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 2),
        }
        trace_id = _trace_id(record)
        if trace_id:
            line["trace_id"] = trace_id
        if error is None:
            log.info("message", **line)
        else:
            log.warning("message", error=repr(error), **line)


def _trace_id(record: Record) -> str | None:
    for key, value in record.headers or ():
        if key == "traceparent":
            parts = value.decode("latin-1").split("-")
            return parts[1] if len(parts) == 4 else None
    return None
