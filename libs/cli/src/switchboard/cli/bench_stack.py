"""The stack's floor: what an email contact costs in the parts the design fixes (uvicorn and FastAPI
for HTTP, aiokafka for Kafka, the embedded broker) with none of Switchboard's code, beside issue
18's budget: 500 contacts a second on two cores leaves 4 ms of CPU a contact for everything, the
services, the broker and the load that sends the contacts and works them.

An email contact takes three HTTP requests (the sender's post, the agent's acceptance and wrap-up)
and six messages on Kafka, each consumed by about three services (19 handlings; here 18). Each part
runs in a process of its own, and each process's CPU is read from outside:

- HTTP: a FastAPI app that answers a post of an email's size with 202 and a small JSON body, on the
  services' own server (`http_server.serve`); 50 senders post to it through httpx clients of five
  connections each, as the bench's senders do. CPU a request, the server's and the senders'.
- Kafka: a producer sends a contact's six messages (envelope-sized, keyed by the contact, on six
  topics) for 500 contacts a second, acks from all replicas and a 2 ms linger as the services'
  relays send; three consumer groups, each a process reading fifteen topics (the six and nine
  quiet ones, as routing, recording and the desktop read ten to twenty-five), fetch with the
  services' 15 ms wait while records flow and commit after each batch. CPU a message produced, a
  record consumed, and the broker's a contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import secrets
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from switchboard.cli.bench_centre import cpu_seconds
from switchboard.cli.bench_pipeline import create_topics
from switchboard.cli.http_server import serve
from switchboard.common.embedded_broker import EmbeddedBroker
from switchboard.common.process import free_port

BUDGET_MS = 4.0
"""Two cores' CPU a second divided by the 500 contacts a second issue 18 asks for."""
REQUESTS_A_CONTACT = 3
MESSAGES_A_CONTACT = 6
GROUPS = 3
QUIET_TOPICS = 9
RATE = 500
"""Contacts a second the producer sends."""
SECONDS = 10.0
HTTP_REQUESTS = 4_000
CLIENTS = 50
POOL_CONNECTIONS = 5
EMAIL = b"From: Customer <customer@example.net>\r\nSubject: A question\r\n\r\n" + b"x" * 2_400
ENVELOPE = b'{"event_type":"contact.received","payload":{"text":"' + b"x" * 1_100 + b'"}}'


# -- HTTP ---------------------------------------------------------------------------------------


def _serve(port: int) -> None:
    app = FastAPI()

    @app.post("/v1/email")
    async def post(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"contact_id": secrets.token_hex(16)}, status_code=202)

    serve(app, host="127.0.0.1", port=port)


async def _post_all(url: str, count: int) -> None:
    """`count` posts from `CLIENTS` senders, through pools of `POOL_CONNECTIONS` connections: httpx
    spends more CPU a request the more connections its pool holds (1.0 ms with 5, 3.9 ms with 50 on
    this machine), so one pool of 50 measures the client library's pool, not HTTP."""
    left = iter(range(count))
    headers = {"Content-Type": "message/rfc822"}

    async def sender(http: httpx.AsyncClient) -> None:
        for _ in left:
            answer = await http.post(url, content=EMAIL, headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"the server answered {answer.status_code}")

    limits = httpx.Limits(max_connections=POOL_CONNECTIONS)
    async with contextlib.AsyncExitStack() as stack:
        pools = [
            await stack.enter_async_context(httpx.AsyncClient(timeout=30, limits=limits))
            for _ in range(CLIENTS // POOL_CONNECTIONS)
        ]
        await asyncio.gather(*(sender(pools[n % len(pools)]) for n in range(CLIENTS)))


def http_floor() -> tuple[float, float, float]:
    """(requests a second, server CPU ms a request, clients' CPU ms a request)."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,))
    server.start()
    try:
        url = f"http://127.0.0.1:{port}/v1/email"
        deadline = time.monotonic() + 30
        while True:
            try:
                asyncio.run(_post_all(url, 200))  # up, and warmed
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert server.pid is not None
        before, clients_before = cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        asyncio.run(_post_all(url, HTTP_REQUESTS))
        elapsed = time.perf_counter() - started
        served = cpu_seconds(server.pid) - before
        posted = time.process_time() - clients_before
    finally:
        server.terminate()
        server.join(10)
    ms = 1000 / HTTP_REQUESTS
    return HTTP_REQUESTS / elapsed, served * ms, posted * ms


# -- Kafka --------------------------------------------------------------------------------------


def _consume(
    bootstrap: str, names: list[str], group: str, expected: int, ready: Event, used: Queue[float]
) -> None:
    """Read `expected` records; put on `used` the CPU seconds that took from the group's join."""
    joined_at = asyncio.run(_consuming(bootstrap, names, group, expected, ready))
    used.put(time.process_time() - joined_at)


async def _consuming(
    bootstrap: str, names: list[str], group: str, expected: int, ready: Event
) -> float:
    """The process's CPU time when the group was joined."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *names,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=15,
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        joined_at = time.process_time()
        ready.set()
        seen = 0
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1_000)
            seen += sum(len(records) for records in batches.values())
            if batches:
                await consumer.commit()
        return joined_at
    finally:
        await consumer.stop()


def _produce(
    bootstrap: str, names: list[str], contacts: int, seconds: float, used: Queue[float]
) -> None:
    started = time.process_time()
    asyncio.run(_producing(bootstrap, names, contacts, seconds))
    used.put(time.process_time() - started)


async def _producing(bootstrap: str, names: list[str], contacts: int, seconds: float) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        started, sent = time.monotonic(), []
        for n in range(contacts):
            due = started + n * seconds / contacts
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            key = f"contact-{n}".encode()
            for name in names:
                sent.append(await producer.send(name, ENVELOPE, key=key))
            if len(sent) > 600:
                await asyncio.gather(*sent)
                sent = []
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def kafka_floor() -> dict[str, float]:
    """CPU ms a contact: the producer's, the consumers' (all three groups) and the broker's; and
    how many seconds after the last message was produced the consumers had read it all."""
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    spawn = multiprocessing.get_context("spawn")
    try:
        run = secrets.token_hex(3)
        busy = [f"stack.{run}.{n}" for n in range(MESSAGES_A_CONTACT)]
        quiet = [f"stack.{run}.quiet.{n}" for n in range(QUIET_TOPICS)]
        asyncio.run(create_topics(broker.bootstrap, busy + quiet))
        contacts = int(RATE * SECONDS)
        expected = contacts * MESSAGES_A_CONTACT
        readies = [spawn.Event() for _ in range(GROUPS)]
        consumed: Queue[float] = spawn.Queue()
        produced: Queue[float] = spawn.Queue()
        consumers = [
            spawn.Process(
                target=_consume,
                args=(broker.bootstrap, busy + quiet, f"{run}-{n}", expected, ready, consumed),
            )
            for n, ready in enumerate(readies)
        ]
        for consumer in consumers:
            consumer.start()
        for ready in readies:
            if not ready.wait(60):
                raise RuntimeError("a consumer group was not joined within 60 s")
        assert broker.process is not None
        broker_before = cpu_seconds(broker.process.pid)
        producer = spawn.Process(
            target=_produce, args=(broker.bootstrap, busy, contacts, SECONDS, produced)
        )
        producer.start()
        producer_used = produced.get(timeout=SECONDS * 6)
        produced_at = time.monotonic()
        consumers_used = sum(consumed.get(timeout=120) for _ in consumers)
        behind = time.monotonic() - produced_at
        broker_used = cpu_seconds(broker.process.pid) - broker_before
        for process in (producer, *consumers):
            process.join(10)
    finally:
        broker.stop()
    ms = 1000 / contacts
    return {
        "producer": producer_used * ms,
        "consumers": consumers_used * ms,
        "broker": broker_used * ms,
        "behind": behind,
    }


def bench_stack() -> None:
    print(
        "the stack's floor: an email contact's three HTTP requests and six messages (19 "
        "handlings) through uvicorn and FastAPI, aiokafka and the embedded broker, with none of "
        f"Switchboard's code; issue 18's budget is {BUDGET_MS:.0f} ms of CPU a contact"
    )
    rate, served, posted = http_floor()
    print(
        f"  HTTP ({CLIENTS} clients, {HTTP_REQUESTS} posts): {rate:.0f} requests/s; CPU a "
        f"request: server {served:.2f} ms, clients {posted:.2f} ms"
    )
    kafka = kafka_floor()
    print(
        f"  Kafka ({RATE} contacts/s for {SECONDS:.0f} s, {MESSAGES_A_CONTACT} topics, {GROUPS} "
        f"groups of {MESSAGES_A_CONTACT + QUIET_TOPICS} topics): CPU a contact: producer "
        f"{kafka['producer']:.2f} ms, consumers {kafka['consumers']:.2f} ms, broker "
        f"{kafka['broker']:.2f} ms; the consumers finished {kafka['behind']:.1f} s after the "
        "last message was produced"
    )
    http = REQUESTS_A_CONTACT * (served + posted)
    total = http + kafka["producer"] + kafka["consumers"] + kafka["broker"]
    print(
        f"  a contact: HTTP {http:.2f} ms + Kafka "
        f"{kafka['producer'] + kafka['consumers'] + kafka['broker']:.2f} ms = {total:.2f} ms of "
        f"CPU, {100 * total / BUDGET_MS:.0f} % of the budget before any of Switchboard's work"
    )


if __name__ == "__main__":
    bench_stack()
