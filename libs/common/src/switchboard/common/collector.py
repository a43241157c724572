"""The cyclic garbage collector, set for a long-running service.

A service builds a large heap at start (SQLAlchemy's mappers, pydantic's validators, FastStream,
the topics' schemas) that lives as long as the process, and then makes many short-lived objects per
event (ORM rows, sessions, spans). With Python's defaults the collector runs a young collection
every 700 new container objects and, now and then, a full one that walks the whole heap: profiled
with `perf` at 20 contacts a second, 2 to 7 % of a consumer's CPU (the desktop's most, which holds
the most). Two settings, applied once the service has started:

- `gc.freeze()` moves everything alive then to a permanent generation that no collection walks:
  the start-up heap is not garbage and never will be;
- a young collection every `YOUNG_THRESHOLD` new objects instead of 700: most of an event's
  objects are freed by their reference counts before it runs, so it finds and walks fewer.

Cycles are still collected, a little later; what a collection would free waits at most that many
allocations longer.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
_OLDER = (10, 10)
"""Python's own: a middle collection every ten young ones, an old one every ten middle ones."""


def settle() -> None:
    """Freeze what the process has built so far and make young collections rarer."""
    gc.collect()  # what start-up left as garbage goes now rather than into the frozen heap
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *_OLDER)
