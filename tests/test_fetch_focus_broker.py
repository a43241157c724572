"""On the real embedded broker, a consumer whose fetches name only its hot topics still gets every
record of its quiet ones, once each and in order (`common/fetch_focus.py`)."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from switchboard.common.embedded_broker import EmbeddedBroker
from switchboard.common.fetch_focus import FetchFocus
from tests.integration.ports import reserved_port

TOPICS = [f"focus.t{i}" for i in range(8)]
HOT, QUIET = TOPICS[0], TOPICS[5]


async def test_records_on_a_quiet_topic_all_arrive_while_fetches_name_the_hot_one(
    tmp_path: Path,
) -> None:
    broker = EmbeddedBroker(port=reserved_port(), log_file=tmp_path / "broker.log")
    broker.start()
    try:
        await _run(broker.bootstrap)
    finally:
        broker.stop()


async def _run(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1) for topic in TOPICS])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=bootstrap,
        group_id="focus",
        fetch_max_wait_ms=15,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    focus, sent_fetches = FetchFocus(), []
    narrowed = focus.narrowed

    def watched(requests):  # type: ignore[no-untyped-def]
        sent = narrowed(requests)
        sent_fetches.extend([topic for topic, _ in request.topics] for _, request in sent)
        return sent

    focus.narrowed = watched  # type: ignore[method-assign]
    got: dict[str, list[bytes]] = {topic: [] for topic in TOPICS}
    try:
        for n in range(60):
            await producer.send_and_wait(HOT, b"hot %d" % n)
            if n in (20, 21, 40):
                await producer.send_and_wait(QUIET, b"quiet %d" % n)
            focus.attach(consumer)
            for partition, records in (await consumer.getmany(timeout_ms=50)).items():
                focus.records_seen([partition.topic])
                got[partition.topic] += [record.value for record in records]
        for _ in range(100):
            if len(got[HOT]) == 60 and len(got[QUIET]) == 3:
                break
            for partition, records in (await consumer.getmany(timeout_ms=100)).items():
                got[partition.topic] += [record.value for record in records]
    finally:
        await consumer.stop()
        await producer.stop()
    assert got[QUIET] == [b"quiet 20", b"quiet 21", b"quiet 40"]
    assert got[HOT] == [b"hot %d" % n for n in range(60)]
    assert not any(got[topic] for topic in TOPICS if topic not in (HOT, QUIET))
    # Most fetches named the hot topics alone; some named every topic.
    focused = [named for named in sent_fetches if set(named) <= {HOT, QUIET}]
    full = [named for named in sent_fetches if sorted(named) == sorted(TOPICS)]
    assert len(focused) > len(full) > 0
