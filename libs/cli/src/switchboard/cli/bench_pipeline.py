"""The yardstick for the centre's end-to-end figure: a raw aiokafka pipeline on the same broker, in
the same run. Messages are produced to one topic, two relays each consume and produce them on to the
next, and a last consumer counts them: three hops, like intake → routing → the desktop, with none
of the centre's work in between. What it carries is what the broker and the client library allow;
the centre's ratio to it is what our own code costs."""

from __future__ import annotations

import asyncio
import secrets
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

MESSAGES = 30_000
VALUE = b'{"event_type":"bench","payload":"' + b"x" * 160 + b'"}'


async def _relay(bootstrap: str, source: str, target: str | None, count: int, group: str) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2) if target else None
    await consumer.start()
    if producer is not None:
        await producer.start()
    try:
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200)
            sent = []
            for records in batches.values():
                for record in records:
                    seen += 1
                    if producer is not None and target is not None:
                        sent.append(await producer.send(target, record.value, key=record.key))
            if sent:
                await asyncio.gather(*sent)
            await consumer.commit()
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()


async def create_topics(bootstrap: str, names: list[str]) -> None:
    """`names`, with the registry's default six partitions each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 6, 1) for name in names])
    finally:
        await admin.close()


async def _pipeline(bootstrap: str, count: int) -> float:
    run = secrets.token_hex(3)
    names = [f"bench.raw.{run}.{hop}" for hop in ("a", "b", "c")]
    await create_topics(bootstrap, names)
    hops = [
        asyncio.create_task(_relay(bootstrap, names[0], names[1], count, f"{run}-1")),
        asyncio.create_task(_relay(bootstrap, names[1], names[2], count, f"{run}-2")),
        asyncio.create_task(_relay(bootstrap, names[2], None, count, f"{run}-3")),
    ]
    await asyncio.sleep(6.0)  # each group's first join takes the embedded broker a few seconds
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
    await producer.start()
    started = time.perf_counter()
    try:
        sent = [
            await producer.send(names[0], VALUE, key=str(n % 997).encode()) for n in range(count)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    await asyncio.wait_for(asyncio.gather(*hops), 300)
    return count / (time.perf_counter() - started)


def raw_pipeline(bootstrap: str, count: int = MESSAGES) -> float:
    """Messages per second through the three hops, first produced to last consumed."""
    return asyncio.run(_pipeline(bootstrap, count))
