"""A service process's runtime: its database, broker, outbox relay and metrics, and the one way
handlers change state — a transaction that claims the event, applies the effect and emits the next
events, all committed together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Gauge
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from switchboard.common import outbox
from switchboard.common.broker import OutboxSender, build_broker, consumer_group
from switchboard.common.commits import Commits
from switchboard.common.db import Database, claim_new, on_commit
from switchboard.common.envelope import Envelope
from switchboard.common.outbox import OutboxRelay, Outgoing, outgoing
from switchboard.common.settings import Settings
from switchboard.common.telemetry import build_tracer_provider


@dataclass
class Transaction:
    session: AsyncSession
    consumer: str
    producer: str
    context: ServiceContext | None = None
    """The service's context (see `Runtime.context`)."""
    emits: frozenset[str] | None = None
    """The topics the service declares it emits (None: not declared, anything goes)."""
    emitted: list[Outgoing] = field(default_factory=list)
    committed: list[Callable[[], object]] = field(default_factory=list)
    finishing: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    async def claim(self, events: list[Envelope[Any]]) -> list[Envelope[Any]]:
        """The events of a batch this consumer has not applied yet (each once), claimed in this
        transaction: one query for the whole batch instead of one per event."""
        return await claim_new(self.session, consumer=self.consumer, events=events)

    async def emit(self, event: Envelope[Any]) -> Outgoing:
        """Publish `event` if, and only if, this transaction commits. Its row is written, with the
        transaction's other events in one statement, when the transaction's work is done."""
        row = outgoing(event)
        if self.emits is not None and row.topic not in self.emits:
            raise ValueError(f"{self.producer} does not declare that it emits {row.topic}")
        if self.session.in_nested_transaction():
            raise RuntimeError("emit outside a savepoint: a rolled-back one would not take it back")
        self.emitted.append(row)
        return row

    async def write_emitted(self) -> None:
        """Write the events emitted (the runtime does, once, after the `before_commit` work)."""
        if self.emitted:
            await outbox.write(self.session, producer=self.producer, rows=self.emitted)

    def before_commit(self, finish: Callable[[], Awaitable[object]]) -> None:
        """Await `finish` when the transaction's work is done, just before it commits: how a
        handler's writes are gathered over a whole batch and made in a few statements."""
        if finish not in self.finishing:
            self.finishing.append(finish)

    def after_commit(self, apply: Callable[[], object]) -> None:
        """Run `apply` once this transaction has committed, never if it rolls back, before the
        process's next writer begins (`db.on_commit`): how a service keeps an in-memory view
        (routing's ACD) in step with its record."""
        self.committed.append(apply)


class ServiceContext:
    """The base of a service's context: a frozen dataclass of what its handlers, loops and routes
    work with (its settings, clock, tracer, wake-ups, mailer, keys), made once in `build_app` and
    held by its runtime (`runtime.context = Desktop(runtime, ...)`). `Desktop.of(tx)` and
    `Desktop.of(request)` are typed, where a string-keyed dict would be a service locator that
    type-checks nothing."""

    runtime: Runtime

    @classmethod
    def of(cls, holder: Runtime | Transaction | HTTPConnection) -> Self:
        """The context of the runtime behind a transaction, a request or the runtime itself."""
        if isinstance(holder, HTTPConnection):
            holder = runtime_of(holder)
        context = holder.context
        if not isinstance(context, cls):
            raise TypeError(
                f"the runtime's context is {type(context).__name__}, not {cls.__name__}"
            )
        return context


@dataclass
class Runtime:
    service: str
    settings: Settings
    db: Database
    broker: KafkaBroker
    relay: OutboxRelay
    metrics: CollectorRegistry
    tracer_provider: TracerProvider
    sender: OutboxSender
    context: ServiceContext | None = None
    """What the service's handlers, loops and routes work with, made once in its `build_app`."""
    emits: frozenset[str] | None = None
    """The topics the service declares it emits (its `Subscriptions(emits=...)`)."""
    consumes: tuple[str, ...] = ()
    """The topics its consumer group reads."""
    commits: Commits | None = None
    """Its consumer's offsets waiting to be committed (committed as it stops, too)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.db.session() as session:
            tx = Transaction(
                session,
                consumer=consumer_group(self.service),
                producer=self.service,
                context=self.context,
                emits=self.emits,
            )
            on_commit(session, partial(self._committed, tx))
            yield tx
            for finish in tx.finishing:
                await finish()
            await tx.write_emitted()

    def _committed(self, tx: Transaction) -> None:
        for apply in tx.committed:
            apply()
        self.relay.hand_over(tx.emitted)


def build_runtime(service: str, settings: Settings) -> Runtime:
    metrics = CollectorRegistry()
    tracer_provider = build_tracer_provider(service=service, settings=settings)
    broker = build_broker(bootstrap=settings.kafka_bootstrap, service=service, metrics=metrics)
    db = Database(settings.sqlalchemy_url_for(service))
    backlog = Gauge(
        "switchboard_outbox_backlog",
        "Outbox rows not yet acknowledged by the broker",
        registry=metrics,
    )

    sender = OutboxSender(bootstrap=settings.kafka_bootstrap, service=service)
    relay = OutboxRelay(
        db,
        sender,
        producer=service,
        # A commit wakes the relay at once; the poll is for rows it was not told of. On SQLite one
        # process per service writes them all (only a restart or `dlq put-back` leaves rows behind
        # its back); on PostgreSQL the relay holding the lock relays the other replicas' rows too.
        poll_interval=1.0 if db.is_postgres else 5.0,
        tracer=tracer_provider.get_tracer("switchboard.outbox"),
        on_backlog=backlog.set,
        metrics=metrics,
    )
    return Runtime(service, settings, db, broker, relay, metrics, tracer_provider, sender)


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The service's runtime, from a request (or a web socket) to its HTTP app: what every route
    reaches its database, broker and settings through (`service.build_http` puts it there)."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
