"""`make bench`, part: what a busy consumer's fetches cost the embedded broker, with each fetch
naming every topic the consumer reads and with it naming only the hot ones (`fetch_focus.py`).

One consumer of 30 topics fetching with a 15 ms wait (a consumer just after a batch), a producer
putting 40 records a second on three of them and one a second on a fourth; the broker's CPU, this
process's (the consumer and the producer) and each record's time from produce to consume, median
of alternating rounds in this run.

    python -m switchboard.cli.bench_fetch
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from switchboard.cli.bench_centre import percentile
from switchboard.common.embedded_broker import EmbeddedBroker
from switchboard.common.fetch_focus import FetchFocus
from switchboard.common.process import free_ports

TOPICS = [f"bench.fetch.{n}" for n in range(30)]
HOT = TOPICS[:3]
WARM = TOPICS[3]
"""A topic with a record a second: hot while they come."""
RECORDS_PER_SECOND = 40
SECONDS = 15.0
ROUNDS = 2


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(bootstrap: str, broker_pid: int, *, focused: bool, group: str) -> dict[str, float]:
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=bootstrap,
        group_id=group,
        fetch_max_wait_ms=15,
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await consumer.start()
    await producer.start()
    focus, latencies = FetchFocus(), list[float]()

    async def consume() -> None:
        while True:
            if focused:
                focus.attach(consumer)
            for partition, records in (await consumer.getmany(timeout_ms=10_000)).items():
                focus.records_seen([partition.topic])
                now = time.time() * 1000
                latencies.extend(now - record.timestamp for record in records)

    async def produce() -> None:
        for n in range(10**9):
            await producer.send_and_wait(HOT[n % len(HOT)], b"x" * 300)
            if n % RECORDS_PER_SECOND == 0:
                await producer.send_and_wait(WARM, b"x" * 300)
            await asyncio.sleep(1 / RECORDS_PER_SECOND)

    tasks = [asyncio.create_task(consume()), asyncio.create_task(produce())]
    try:
        await asyncio.sleep(4.0)  # joined, fetching, the hot topics hot
        latencies.clear()
        broker, mine, started = _cpu_seconds(broker_pid), time.process_time(), time.monotonic()
        await asyncio.sleep(SECONDS)
        elapsed = time.monotonic() - started
        return {
            "broker": 100 * (_cpu_seconds(broker_pid) - broker) / elapsed,
            "client": 100 * (time.process_time() - mine) / elapsed,
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
        }
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await consumer.stop()
        await producer.stop()


async def _bench(rounds: int) -> dict[bool, list[dict[str, float]]]:
    broker = EmbeddedBroker(port=free_ports("broker")["broker"])
    broker.start()
    try:
        assert broker.process is not None
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(topic, 1, 1) for topic in TOPICS])
        await admin.close()
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for n in range(rounds):
            for focused in (False, True):
                group = f"bench-fetch-{n}-{focused}"
                runs[focused].append(
                    await _run(broker.bootstrap, broker.process.pid, focused=focused, group=group)
                )
        return runs
    finally:
        broker.stop()


def bench_fetch(rounds: int = ROUNDS) -> None:
    print(
        f"a busy consumer's fetches on the embedded broker: {len(TOPICS)} topics, 15 ms fetch "
        f"wait, {RECORDS_PER_SECOND} records/s on {len(HOT)} topics (median of {rounds} "
        "alternating rounds; CPU in % of one core)"
    )
    runs = asyncio.run(_bench(rounds))
    for focused, figures in runs.items():
        median = {name: statistics.median(f[name] for f in figures) for name in figures[0]}
        label = "hot topics only" if focused else "every topic    "
        print(
            f"  fetches naming {label}: broker {median['broker']:5.1f} %, consumer and producer "
            f"{median['client']:5.1f} %; produce → consume p50 {median['p50']:4.0f} ms, "
            f"p99 {median['p99']:4.0f} ms"
        )


if __name__ == "__main__":
    bench_fetch()
