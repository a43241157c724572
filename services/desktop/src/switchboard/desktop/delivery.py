"""What the desktop's handlers share: telling an agent (into their inbox, which their stream
replays) and the desktop's row for an event's contact."""

from __future__ import annotations

import functools
from typing import Any

from opentelemetry import propagate

from switchboard.common.db import per_session
from switchboard.common.envelope import Envelope
from switchboard.common.runtime import Transaction
from switchboard.desktop import inbox_store, store
from switchboard.desktop.context import Desktop


async def tell(tx: Transaction, agent_id: str, event_type: str, data: dict[str, Any]) -> None:
    """Put an event in the agent's inbox, with the rest of the batch's when it finishes, and hand
    it to their open streams once it is committed."""
    inbox = per_session(tx.session, inbox_store.PendingInbox)
    inbox.entries.append((agent_id, event_type, data))

    async def deliver() -> None:
        wakeups = Desktop.of(tx).wakeups
        for agent, told in (await inbox.write()).items():
            tx.after_commit(functools.partial(wakeups.committed, agent, told))

    if len(inbox.entries) == 1:  # the batch's first: deliver them all before it commits
        tx.before_commit(deliver)


async def contact_for(tx: Transaction, event: Envelope[Any]) -> store.DesktopContact:
    row = await store.contact_row(
        tx.session,
        contact_id=event.about_contact_id,
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
    )
    if row.trace_parent is None:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        row.trace_parent = headers.get("traceparent")
    return row
