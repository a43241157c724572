"""A call's events that come before the call: intake publishes a call's `contact.received`, then
what becomes of the call (answered at the PBX, abandoned, ended, a callback asked for), each on
its own topic. Kafka fetches the partitions of different topics apart, so routing can be handed
the caller's hang-up before the call itself, most of all when it works through a backlog. Applied
then, the hang-up found no line to leave and the call was queued and offered afterwards, a caller
long gone.

So an event about a call that routing has not admitted yet is kept (`store.EarlyCallEvent`), and
applied, in the order the events happened, in the transaction that admits the call: the call ends
as it would have had the events come in order. A phone contact that is not routed leaves a line
entry behind that says so, so that its later events are not kept for ever."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from switchboard.common.envelope import Envelope
from switchboard.common.runtime import Transaction
from switchboard.common.topics import Topic
from switchboard.routing import store

Handler = Callable[[Any, Transaction], Awaitable[None]]
_AFTER_THE_CALL: dict[str, tuple[type[Envelope[Any]], Handler]] = {}


def after_the_call(topic: Topic, handle: Handler) -> Handler:
    """`handle`, applied once the call it is about has been admitted here (kept until then)."""
    model = cast("type[Envelope[Any]]", cast(Any, Envelope)[topic.payload])
    _AFTER_THE_CALL[topic.name] = (model, handle)

    async def applied_or_kept(event: Envelope[Any], tx: Transaction) -> None:
        if await tx.session.get(store.QueueEntry, event.aggregate_id) is not None:
            await handle(event, tx)
            return
        tx.session.add(
            store.EarlyCallEvent(
                event_id=event.event_id,
                contact_id=event.aggregate_id,
                topic=topic.name,
                occurred_at=event.occurred_at,
                envelope=event.model_dump_json(),
            )
        )

    applied_or_kept.__doc__ = handle.__doc__
    return applied_or_kept


async def apply_kept(tx: Transaction, contact_id: str) -> None:
    """The call's events kept until now, applied in the order they happened (its line entry is
    in the session)."""
    await tx.session.flush()
    for kept in await store.early_call_events(tx.session, contact_id=contact_id):
        model, handle = _AFTER_THE_CALL[kept.topic]
        await handle(model.model_validate_json(kept.envelope), tx)
        await tx.session.delete(kept)
