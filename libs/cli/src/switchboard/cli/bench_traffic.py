"""What the centre benchmark sends and watches: signed emails posted to intake, offers seen on
Kafka, recording's counts from its /metrics, and the agents at work (a process of their own)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from switchboard.cli.centre import Centre
from switchboard.common import topics
from switchboard.common.envelope import peek
from switchboard.common.settings import Settings
from switchboard.common.signing import signed_headers

DRAIN_SECONDS = 240.0
"""The longest the agents are given to wrap up what was handed in."""


class Mail:
    """The tenant's mail gateway posting signed emails to intake."""

    def __init__(self, centre: Centre, *clients: httpx.AsyncClient) -> None:
        """Posts go to `clients` in turn (`bench_centre.RATE_POOLS`)."""
        creds = centre.credentials
        self.address = creds["tenants"][creds["operator_tenant"]]["email"]
        self.system = next(k for k in creds["channel_systems"] if k.endswith("mail"))
        self.secret = creds["channel_systems"][self.system]["secret"]
        self.url = centre.settings.base_url("intake") + "/v1/email"
        self.clients = clients
        self.sent = 0
        self.refusals: dict[str, int] = {}

    def _refused(self, why: str) -> None:
        self.refusals[why] = self.refusals.get(why, 0) + 1

    async def post(self) -> tuple[str | None, float, float]:
        """(contact id or None when refused, sent at, answered at); each refusal is counted by its
        status code or error in `refusals`."""
        self.sent += 1
        message = EmailMessage()
        message["From"] = f"Customer {self.sent} <customer{self.sent}@example.net>"
        message["To"] = self.address
        message["Subject"] = f"Question {self.sent} about my account"
        message["Message-ID"] = make_msgid(domain="bench.example.net")
        message.set_content("Could you tell me when my next reading is due? " * 8)
        raw = message.as_bytes()
        headers = {
            "Content-Type": "message/rfc822",
            **signed_headers(self.system, self.secret, raw),
        }
        sent = time.monotonic()
        try:
            client = self.clients[self.sent % len(self.clients)]
            response = await client.post(self.url, content=raw, headers=headers)
        except httpx.HTTPError as error:
            self._refused(type(error).__name__)
            return None, sent, time.monotonic()
        answered = time.monotonic()
        if response.status_code != 202:
            self._refused(str(response.status_code))
            return None, sent, answered
        return str(response.json()["contact_id"]), sent, answered


class Offers:
    """When each contact was first offered to an agent, as seen on `agent.offered`."""

    def __init__(self, bootstrap: str) -> None:
        self.first: dict[str, float] = {}
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, fetch_max_wait_ms=5, enable_auto_commit=False
        )
        self._task: asyncio.Task[None] | None = None
        self._news = asyncio.Event()

    async def start(self) -> None:
        await self.consumer.start()
        topic = topics.AGENT_OFFERED.name
        await self.consumer.topics()
        partitions = [
            TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()
        ]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)  # fixes the end before the load starts
        self._task = asyncio.create_task(self._follow())

    async def seen(self, contacts: set[str]) -> None:
        """Returns once every one of `contacts` has been offered."""
        while not contacts <= self.first.keys():
            self._news.clear()
            await self._news.wait()

    async def _follow(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    contact = peek(record.value or b"").get("contact_id")
                    if isinstance(contact, str):
                        self.first.setdefault(contact, now)
            if batches:
                self._news.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


async def applied_count(
    client: httpx.AsyncClient, centre: Centre, topic: str = "contact.received"
) -> int:
    """How many `topic` events recording has applied (from its /metrics)."""
    text = (await client.get(centre.settings.base_url("recording") + "/metrics")).text
    applied = re.compile(
        rf'^switchboard_messages_handled_total{{outcome="applied",topic="{re.escape(topic)}"}} (\S+)$',
        re.MULTILINE,
    )
    found = applied.search(text)
    return int(float(found.group(1))) if found else 0


async def worked_off(centre: Centre) -> float:
    """Waits until the agents have wrapped up every contact handed in so far (so the next run
    finds them with capacity); the seconds that took."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(int(DRAIN_SECONDS)):
            received = await applied_count(client, centre)
            if await applied_count(client, centre, "contact.wrapped") >= received:
                break
            await asyncio.sleep(1.0)
    return time.monotonic() - started


def agents_at_work(
    settings: dict[str, Any], credentials: dict[str, Any], ready: Any, stop: Any
) -> None:
    """The agents' process: sign in, go available, then work until `stop` is set."""
    from switchboard.cli.chaos_load import Ledger, staffed

    async def main() -> None:
        ledger, stopped = Ledger(), asyncio.Event()
        config = Settings.model_validate(settings)
        async with staffed(config, credentials, ledger) as (_, agents):
            await asyncio.gather(*(agent.sign_in_available() for agent in agents))
            working = [asyncio.create_task(agent.work(stopped)) for agent in agents]
            ready.set()
            await asyncio.to_thread(stop.wait)
            stopped.set()
            asyncio.get_running_loop().set_exception_handler(lambda _loop, _context: None)
            for task in working:  # streams cut mid-read: nothing to report
                task.cancel()
            await asyncio.gather(*working, return_exceptions=True)

    asyncio.run(main())


# -- the runs ---------------------------------------------------------------------------------
