"""How eagerly a service's consumer asks the broker for more: at once while records flow, lazily
when nothing has come for a while.

Two waits decide how soon a record reaches its handler: how long the broker holds a fetch that
found nothing (`fetch_max_wait_ms`), and how long FastStream's batch loop waits on the fetched
buffer, then sleeps, when it found nothing (`batch_timeout_ms`). Kafka answers a held fetch as soon
as a record arrives, but the embedded broker holds it to the end of the wait whatever arrives
(measured on Tansu 0.6: a record produced into a 500 ms fetch reaches the consumer 200-460 ms
later; into a 15 ms fetch, within 16 ms). Short waits throughout would cost an idle centre a
request and a wake-up every few milliseconds per service; long ones cost every hop up to half a
second. So the fetch waits are short while batches keep coming and long once none has for a second.

FastStream's batch loop asks the fetched buffer for records with a timeout and, when it found none,
sleeps as long again before asking anew: a record fetched during that sleep waited for it (up to
200 ms a hop when idle), and the loop woke twice per timeout. `Pacing` has the loop ask without the
sleep, with a long timeout: the buffer answers the moment records are fetched, so the timeout only
bounds how long an ask lasts (a stopping consumer cancels it).

A batch's fixed costs (its transaction, its ledger claim and prefetch queries, its offset commit,
the relay's turn after it) are shared by its records. Under load, on two cores shared by every
service, a consumer got batches of about six: each time it had the CPU, a few records had come in
since its last turn. When an ask finds records already waiting (the consumer is behind) and they
are few, it waits `LINGER_MS` for more and applies them together: batches of about twelve
(`deploy/CAPACITY.md`, item 12). A consumer that keeps up waits for its records anyway, so it
never lingers: at low load a hop costs nothing more.
"""

from __future__ import annotations

import asyncio
from itertools import chain
from typing import Any

BUSY_FETCH_MS = 15
IDLE_FETCH_MS = 500
ASK_WAIT_MS = 1_000
IDLE_AFTER_SECONDS = 1.0
LINGER_MS = 20
"""How long a consumer that is behind waits for more records before applying a small batch."""
LINGER_BELOW = 50
"""A batch of fewer records than this is small."""
BEHIND_WITHIN_SECONDS = 0.002
"""An ask answered this soon found records already waiting: the consumer is behind."""


class Pacing:
    def __init__(self, subscriber: Any) -> None:
        self._subscriber = subscriber
        self._relax: asyncio.TimerHandle | None = None
        self._busy = False
        self._set(busy=False)
        subscriber.get_msg = self._ask

    async def _ask(self, consumer: Any) -> tuple[Any, ...]:
        """What FastStream's batch subscriber does to get a batch, without its sleep after an ask
        that found nothing (the ask already waited), and with a linger when behind: records that
        were already waiting, but few, are applied together with what comes in the next
        `LINGER_MS` (see the module's docstring)."""
        subscriber = self._subscriber
        loop = asyncio.get_running_loop()
        asked = loop.time()
        batches = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        records = tuple(chain(*batches.values()))
        behind = loop.time() - asked < BEHIND_WITHIN_SECONDS
        if behind and 0 < len(records) < LINGER_BELOW:
            await asyncio.sleep(LINGER_MS / 1000)
            more = await consumer.getmany(
                timeout_ms=0, max_records=subscriber.max_records - len(records)
            )
            records += tuple(chain(*more.values()))
        return records

    def batch_seen(self) -> None:
        """Called for every consumed batch: stay eager until a second passes without one."""
        if not self._busy:
            self._set(busy=True)
        if self._relax is not None:
            self._relax.cancel()
        self._relax = asyncio.get_running_loop().call_later(IDLE_AFTER_SECONDS, self._set, False)

    def _set(self, busy: bool) -> None:
        self._busy = busy
        # aiokafka reads the wait from its fetcher for each fetch request it builds; there is no
        # public way to change it on a running consumer.
        fetcher = getattr(getattr(self._subscriber, "consumer", None), "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = BUSY_FETCH_MS if busy else IDLE_FETCH_MS
