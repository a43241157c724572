"""Test helpers shipped with the code (as structlog ships `capture_logs`): a service runtime on a
throw-away SQLite database, for service-tier tests with FastStream's in-memory `TestKafkaBroker`;
and the SQL a piece of work runs, for tests of what it costs in round trips."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from faststream.kafka import TestKafkaBroker
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope
from switchboard.common.outbox import OutboxMessage
from switchboard.common.runtime import Runtime, build_runtime
from switchboard.common.settings import Settings
from switchboard.common.subscriptions import Subscriptions
from switchboard.common.topics import for_event_type


@contextmanager
def statements_run(*engines: AsyncEngine) -> Iterator[list[str]]:
    """The SQL `engines` send to their databases while the block lasts, in the order sent."""
    statements: list[str] = []

    def note(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", note)


@asynccontextmanager
async def service_under_test(
    service: str,
    subscriptions: Subscriptions,
    var_dir: Path,
    *,
    prepare: Callable[[Runtime], Awaitable[object]] | None = None,
) -> AsyncIterator[ServiceUnderTest]:
    """The service's handlers on an in-memory broker and a fresh SQLite database; `prepare` runs
    before the first delivery, as the service's own does."""
    runtime = build_runtime(service, Settings(var_dir=var_dir))
    subscriptions.attach(runtime)
    await runtime.db.create_tables()
    if prepare is not None:
        await prepare(runtime)
    try:
        async with TestKafkaBroker(runtime.broker) as broker:
            yield ServiceUnderTest(runtime, broker)
    finally:
        await runtime.db.dispose()
        runtime.tracer_provider.shutdown()


class ServiceUnderTest:
    def __init__(self, runtime: Runtime, broker: Any) -> None:
        self.runtime = runtime
        self.broker = broker

    async def deliver(self, event: Envelope[Any]) -> None:
        """Deliver `event` on its topic, as the broker would (the handler runs before this returns)."""
        topic = for_event_type(event.event_type)
        await self.broker.publish(event.to_bytes(), topic.name, key=event.aggregate_id.encode())

    async def outbox(self) -> list[dict[str, Any]]:
        """The events the service has emitted and not yet relayed, oldest first."""
        async with self.runtime.db.reader() as session:
            rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            return [Envelope[Any].model_validate_json(r.value).model_dump() for r in rows]

    async def session(self) -> AsyncSession:
        return AsyncSession(self.runtime.db.read_engine)
