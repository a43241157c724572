"""How eagerly a service's consumer asks the broker for more: at once while records flow, less and
less eagerly the longer nothing comes.

Two waits decide how soon a record reaches its handler: how long the broker holds a fetch that
found nothing (`fetch_max_wait_ms`), and how long FastStream's batch loop waits on the fetched
buffer, then sleeps, when it found nothing (`batch_timeout_ms`).

Kafka answers a held fetch as soon as a record arrives, so on Kafka the fetch wait is long and
costs nothing. The embedded broker does not: it looks again for new records only now and then
within the wait (measured on Tansu 0.6, a record produced into a 15 ms fetch came 4 ms later at
the median and 10 ms at most; into a 100 ms fetch, 16 and 31 ms; a 500 ms fetch, 42 and 238 ms;
1 s, 186 and 414 ms). And each fetch costs: a consumer of 30 topics that finds nothing, asking
every 15 ms, kept 18 % of a core busy in the broker and 8 % in itself (2 % and 0.5 % every
500 ms). Holding 15 ms for a whole second after every batch, as consumers did, spent that on
every consumer that had caught up, all through a burst.

So on the embedded broker the wait after a batch starts short and grows with the quiet since
(`QUIET_WAITS`): a record that follows the last one closely is fetched within milliseconds, one
that comes after a quiet spell waits a fraction of that spell, and a consumer with nothing to do
asks about a dozen times in its first quiet second instead of sixty-six.

FastStream's batch loop asks the fetched buffer for records with a timeout and, when it found none,
sleeps as long again before asking anew: a record fetched during that sleep waited for it (up to
200 ms a hop when idle), and the loop woke twice per timeout. `Pacing` has the loop ask without the
sleep, with a long timeout: the buffer answers the moment records are fetched, so the timeout only
bounds how long an ask lasts (a stopping consumer cancels it), and an idle consumer does not wake
to ask again every second.

A batch's fixed costs (its transaction, its ledger claim and prefetch queries, its offset commit,
the relay's turn after it) are shared by its records. Under load, on two cores shared by every
service, a consumer got batches of about six: each time it had the CPU, a few records had come in
since its last turn. When an ask finds records already waiting (the consumer is behind) and they
are few, it waits `LINGER_MS` for more and applies them together: batches of about twelve
(`deploy/CAPACITY.md`, item 12). A consumer that keeps up waits for its records anyway, so it
never lingers: at low load a hop costs nothing more.

Not every consumer must see a record within milliseconds. Routing's offers, the desktop's screens
and intake's calls are waited on by someone (`PROMPT`); recording's history, workforce's figures,
escalation's clocks and what dispatch and the catalogue keep are read seconds to hours later
(`UNHURRIED`). An unhurried consumer asks less eagerly (the embedded broker's cost follows how often
it is asked and how many topics each ask names: at 500 contacts a second its CPU falls by half when
three consumers wait 500 ms instead of 15) and gathers a small batch for a moment even when it
keeps up, so its transaction, ledger claim and commit serve several records where they served one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import chain
from typing import Any

QUIET_WAITS: tuple[tuple[float, int], ...] = (
    (0.0, 15),
    (0.04, 30),
    (0.1, 60),
    (0.25, 125),
    (0.5, 250),
    (1.0, 500),
)
"""(seconds since the last batch, the fetch wait in ms from then on) on the embedded broker."""
ASK_WAIT_MS = 10_000
"""How long one ask for records lasts before it is made again (see the module's docstring)."""
FETCHER_WAKE_MS = 2_000
"""aiokafka's `consumer_timeout_ms`: how often its fetch routine looks again at its partitions with
nothing finished. It is woken anyway by each fetch's answer, by records taken from its buffer and
by a rebalance, so this only bounds a look it would have no reason to take; at aiokafka's 200 ms,
five times a second in each idle service."""
LINGER_MS = 20
"""How long a consumer that is behind waits for more records before applying a small batch."""
LINGER_BELOW = 50
"""A batch of fewer records than this is small."""
BEHIND_WITHIN_SECONDS = 0.002
"""An ask answered this soon found records already waiting: the consumer is behind."""


@dataclass(frozen=True)
class Promptness:
    """How soon a service's consumer must see a record, which sets how eagerly it asks."""

    quiet_waits: tuple[tuple[float, int], ...]
    """(seconds since the last batch, the fetch wait in ms from then on) on the embedded broker."""
    gather_ms: int
    """How long a small batch waits for more before it is applied when the consumer keeps up
    (when it is behind it waits `LINGER_MS` at least)."""

    @property
    def idle_fetch_ms(self) -> int:
        """The fetch wait with nothing coming, and always on Kafka."""
        return self.quiet_waits[-1][1]


PROMPT = Promptness(QUIET_WAITS, gather_ms=0)
"""Someone waits on what the consumer does: a record is fetched within milliseconds."""
UNHURRIED = Promptness(((0.0, 100), (0.5, 250), (1.0, 1_000)), gather_ms=100)
"""Nobody waits on it within a second: a record is applied up to about a tenth of a second after it
came while records flow (a 100 ms fetch returns 16 ms after a record at the median, 31 at most,
then the gathering), and up to about half a second after a quiet spell."""


class Pacing:
    def __init__(
        self, subscriber: Any, *, broker_holds_fetches: bool, promptness: Promptness = PROMPT
    ) -> None:
        """`broker_holds_fetches`: the broker holds a fetch to the end of its wait whatever
        arrives (the embedded one), so the wait follows the traffic; otherwise it stays long."""
        self._subscriber = subscriber
        self._paced = broker_holds_fetches
        self._waits = promptness.quiet_waits
        self._gather_ms = promptness.gather_ms
        self._next: asyncio.TimerHandle | None = None
        self._stage = len(self._waits) - 1
        self._set_wait(promptness.idle_fetch_ms)
        subscriber.get_msg = self._ask

    async def _ask(self, consumer: Any) -> tuple[Any, ...]:
        """What FastStream's batch subscriber does to get a batch, without its sleep after an ask
        that found nothing (the ask already waited), and with a linger when behind: records that
        were already waiting, but few, are applied together with what comes in the next
        `LINGER_MS` (see the module's docstring); an unhurried consumer gathers a few records
        for `gather_ms` whether it is behind or not."""
        subscriber = self._subscriber
        loop = asyncio.get_running_loop()
        asked = loop.time()
        batches = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        records = tuple(chain(*batches.values()))
        behind = loop.time() - asked < BEHIND_WITHIN_SECONDS
        linger_ms = max(self._gather_ms, LINGER_MS if behind else 0)
        if linger_ms and 0 < len(records) < LINGER_BELOW:
            await asyncio.sleep(linger_ms / 1000)
            more = await consumer.getmany(
                timeout_ms=0, max_records=subscriber.max_records - len(records)
            )
            records += tuple(chain(*more.values()))
        return records

    def batch_seen(self) -> None:
        """Called for every consumed batch: the quiet starts again."""
        if self._paced:
            self._to_stage(0)

    def _to_stage(self, stage: int) -> None:
        if self._next is not None:
            self._next.cancel()
            self._next = None
        if stage != self._stage:
            self._stage = stage
            self._set_wait(self._waits[stage][1])
        if stage + 1 < len(self._waits):
            after = self._waits[stage + 1][0] - self._waits[stage][0]
            self._next = asyncio.get_running_loop().call_later(after, self._to_stage, stage + 1)

    def _set_wait(self, wait_ms: int) -> None:
        # aiokafka reads the wait from its fetcher for each fetch request it builds; there is no
        # public way to change it on a running consumer.
        fetcher = getattr(getattr(self._subscriber, "consumer", None), "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = wait_ms
