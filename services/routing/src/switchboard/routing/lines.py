"""The contacts in line: each queue's lines by (queue, channel, priority), heaps ordered by the
time a contact joined; the timers that relax a contact's requirements, overflow it or bring it
back; and the contacts transferred to an agent by name.

An entry of a line is stale (skipped and dropped) once its contact's `version` has moved on: a
contact is never searched for in a heap, only lined up again.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from switchboard.routing.domain import QueueKey, QueueSpec

HEAD_SCAN = 32
"""How far past a queue head to look for a contact an agent has not already declined."""
LineEntry = tuple[float, int, str, int]
"""(joined at, sequence, contact id, the contact's version when lined up)."""


@dataclass(eq=False)
class Waiting:
    contact_id: str
    tenant_id: str
    queue_id: str
    channel: str
    priority: int
    enqueued_at: float
    rule: str = "default"
    excluded: dict[str, float] = field(default_factory=dict)
    """Agents who declined or let an offer lapse → until when they are passed over."""
    offer_id: str | None = None
    overflowed: bool = False
    version: int = 0
    not_before: float = 0.0
    """Not offered before this (a callback outside calling hours, or waiting to be tried again)."""
    reserved_for: str | None = None
    """Transferred to this agent: offered only to them until `reserved_until`, then to anyone."""
    reserved_until: float = 0.0

    def reserved_elsewhere(self, agent_id: str, now: float) -> bool:
        return self.reserved_for not in (None, agent_id) and now < self.reserved_until

    def passed_over(self, agent_id: str, now: float) -> bool:
        """Not for this agent now: they said no lately, it waits, or it is someone else's."""
        return (
            self.excluded.get(agent_id, 0.0) > now
            or self.not_before > now
            or self.reserved_elsewhere(agent_id, now)
        )

    @property
    def home(self) -> QueueKey:
        return (self.tenant_id, self.queue_id)


class Lines:
    def __init__(self) -> None:
        self.waiting: dict[str, Waiting] = {}
        self.memberships: dict[str, set[QueueKey]] = {}
        """contact → the queues it is in line for (its own, and those it overflowed to)."""
        self.reservations: dict[str, set[str]] = {}
        """agent → contacts transferred to them by name, waiting for them."""
        self.dirty: set[str] = set()
        """Contacts that may be offered now (just lined up, or a timer of theirs fired)."""
        self._lines: dict[tuple[QueueKey, str], dict[int, list[LineEntry]]] = {}
        self._timers: list[tuple[float, int, str, str]] = []
        self._counts: dict[QueueKey, int] = {}
        self._seq = itertools.count()

    def join(self, contact: Waiting, queue: QueueSpec | None) -> None:
        """Put a contact in line with its timers (`queue`: its home queue's spec, if known)."""
        self.waiting[contact.contact_id] = contact
        self.memberships[contact.contact_id] = {contact.home}
        self._counts[contact.home] = self._counts.get(contact.home, 0) + 1
        self.schedule(contact, queue)
        if contact.not_before:
            self.timer(contact.not_before, contact, "retry")
        if contact.reserved_for is not None:
            self.reservations.setdefault(contact.reserved_for, set()).add(contact.contact_id)
            self.timer(contact.reserved_until, contact, "retry")
        if contact.offer_id is None:
            self.line_up(contact)

    def move(
        self,
        contact: Waiting,
        *,
        queue_id: str | None,
        queue: QueueSpec | None,
        priority: int | None,
    ) -> None:
        """A new home queue (`queue` its spec) or priority, keeping its place in time."""
        self._counts[contact.home] -= 1
        if queue_id is not None and queue is not None:
            contact.queue_id = queue_id
            self.memberships[contact.contact_id] = {contact.home}
            self.schedule(contact, queue)
        if priority is not None:
            contact.priority = priority
        self._counts[contact.home] = self._counts.get(contact.home, 0) + 1
        contact.offer_id = None
        self.line_up(contact)

    def leave(self, contact: Waiting) -> None:
        self.waiting.pop(contact.contact_id, None)
        self.memberships.pop(contact.contact_id, None)
        self._counts[contact.home] -= 1
        contact.version += 1

    def count(self, queue: QueueKey) -> int:
        return self._counts.get(queue, 0)

    def line_up(self, contact: Waiting) -> None:
        contact.version += 1
        for key in self.memberships[contact.contact_id]:
            line = self._lines.setdefault((key, contact.channel), {}).setdefault(
                contact.priority, []
            )
            entry = (contact.enqueued_at, next(self._seq), contact.contact_id, contact.version)
            heapq.heappush(line, entry)
        self.dirty.add(contact.contact_id)

    def widen(self, contact: Waiting, queues: set[QueueKey]) -> None:
        """The contact is in line for `queues` too (it overflowed)."""
        contact.overflowed = True
        self.memberships[contact.contact_id] |= queues
        if contact.offer_id is None:
            self.line_up(contact)

    def by_priority(self, queue: QueueKey, channel: str) -> dict[int, list[LineEntry]]:
        return self._lines.get((queue, channel), {})

    def head(
        self, line: list[LineEntry], key: QueueKey, agent_id: str, now: float
    ) -> Waiting | None:
        """The longest-waiting live contact of a line this agent has not declined; stale entries
        met on the way are dropped."""
        while line:
            _at, _seq, contact_id, version = line[0]
            if self._live(self.waiting.get(contact_id), version, key):
                break
            heapq.heappop(line)
        skipped: list[LineEntry] = []
        found = None
        while line and len(skipped) < HEAD_SCAN:
            entry = heapq.heappop(line)
            skipped.append(entry)
            contact = self.waiting.get(entry[2])
            if contact is None or not self._live(contact, entry[3], key):
                skipped.pop()
                continue
            if not contact.passed_over(agent_id, now):
                found = contact
                break
        for entry in skipped:
            heapq.heappush(line, entry)
        return found

    def schedule(self, contact: Waiting, queue: QueueSpec | None) -> None:
        if queue is None:
            return
        for step in queue.steps:
            self.timer(contact.enqueued_at + step.after_seconds, contact, "step")
        if queue.overflow_after is not None and queue.overflow_to:
            self.timer(contact.enqueued_at + queue.overflow_after, contact, "overflow")

    def timer(self, due: float, contact: Waiting, kind: str) -> None:
        heapq.heappush(self._timers, (due, next(self._seq), contact.contact_id, kind))

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def due(self, now: float) -> Iterator[tuple[Waiting, str]]:
        """Each timer due by `now` of a contact still in line, with its kind (step, overflow,
        retry), taken off the timers."""
        while self._timers and self._timers[0][0] <= now:
            _due, _seq, contact_id, kind = heapq.heappop(self._timers)
            contact = self.waiting.get(contact_id)
            if contact is not None:
                yield contact, kind

    def _live(self, contact: Waiting | None, version: int, key: QueueKey) -> bool:
        return (
            contact is not None
            and contact.version == version
            and contact.offer_id is None
            and key in self.memberships.get(contact.contact_id, ())
        )
