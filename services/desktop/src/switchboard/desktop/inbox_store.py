"""Agents' inboxes: every event told to an agent, numbered per agent, which their stream replays
from any number (`Last-Event-ID`) for `INBOX_KEPT`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, Column, bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.db import held, written
from switchboard.common.envelope import utcnow
from switchboard.desktop.store import DesktopAgent


class InboxEntry(SQLModel, table=True):
    """One event for one agent's desktop, numbered in the agent's own sequence."""

    __tablename__ = "desktop_inbox"

    agent_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    event_type: str = Field(max_length=64)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Told(NamedTuple):
    """An inbox entry as a stream sends it."""

    seq: int
    event_type: str
    data: dict[str, Any]


class PendingInbox:
    """A transaction's inbox entries, delivered together when it finishes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.entries: list[tuple[str, str, dict[str, Any]]] = []

    async def write(self) -> dict[str, list[Told]]:
        entries, self.entries = self.entries, []
        return await deliver(self.session, entries=entries) if entries else {}


async def deliver(
    session: AsyncSession, *, entries: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, list[Told]]:
    """Append entries (agent, event type, data) to their agents' inboxes, in order: three prepared
    statements however many entries and agents there are (their agents' numbers read, advanced,
    and the entries inserted). Returns each known agent's entries as numbered; entries for an agent
    the desktop does not know are dropped. The numbers are read under a row lock (on PostgreSQL;
    SQLite's writers take turns), taken in the agents' order so that two replicas never wait on
    each other, and held until commit, so an agent's entries commit in the order of their numbers
    and a stream reading `seq > last` can never skip one that commits late. An update per agent,
    built anew through the ORM each time, had cost a twentieth of the desktop's CPU."""
    counts: dict[str, int] = {}
    for agent_id, _, _ in entries:
        counts[agent_id] = counts.get(agent_id, 0) + 1
    connection = await written(session)
    before: dict[str, int] = dict(
        (await connection.execute(_SEQS, {"agents": sorted(counts)})).all()
    )
    newest = {agent_id: seq + counts[agent_id] for agent_id, seq in before.items()}
    if newest:
        numbered = [{"agent": agent_id, "seq": seq} for agent_id, seq in newest.items()]
        await connection.execute(_ADVANCE, numbered)
        for agent_id, seq in newest.items():
            if (agent := held(session, DesktopAgent, agent_id)) is not None:
                set_committed_value(agent, "last_seq", seq)
    next_seq = {agent_id: seq - counts[agent_id] for agent_id, seq in newest.items()}
    told: dict[str, list[Told]] = {agent_id: [] for agent_id in newest}
    rows = []
    now = utcnow()
    for agent_id, event_type, data in entries:
        if agent_id in next_seq:
            seq = next_seq[agent_id] = next_seq[agent_id] + 1
            told[agent_id].append(Told(seq, event_type, data))
            rows.append(
                {
                    "agent_id": agent_id,
                    "seq": seq,
                    "event_type": event_type,
                    "data": data,
                    "created_at": now,
                }
            )
    if rows:
        await connection.execute(_APPEND, rows)
    return told


_SEQS = (
    select(DesktopAgent.agent_id, DesktopAgent.last_seq)
    .where(col(DesktopAgent.agent_id).in_(bindparam("agents", expanding=True)))
    .order_by(col(DesktopAgent.agent_id))
    .with_for_update()
)
_ADVANCE = (
    update(DesktopAgent)
    .where(col(DesktopAgent.agent_id) == bindparam("agent"))
    .values(last_seq=bindparam("seq"))
)
_APPEND = insert(InboxEntry)


PAGE = 500
"""The most inbox entries one read of a stream takes."""


async def inbox_after(
    session: AsyncSession, *, agent_id: str, after: int, limit: int = PAGE
) -> list[Told]:
    rows = await session.exec(
        select(InboxEntry.seq, InboxEntry.event_type, InboxEntry.data)
        .where(col(InboxEntry.agent_id) == agent_id, col(InboxEntry.seq) > after)
        .order_by(col(InboxEntry.seq))
        .limit(limit)
    )
    return [Told(seq, event_type, dict(data)) for seq, event_type, data in rows]


async def last_seqs(session: AsyncSession, *, agent_ids: list[str]) -> dict[str, int]:
    """Each agent's newest inbox number."""
    rows = await session.exec(
        select(DesktopAgent.agent_id, DesktopAgent.last_seq).where(
            col(DesktopAgent.agent_id).in_(agent_ids)
        )
    )
    return dict(rows.all())


async def oldest_kept(session: AsyncSession, *, agent_id: str) -> int | None:
    rows = await session.exec(
        select(InboxEntry.seq)
        .where(col(InboxEntry.agent_id) == agent_id)
        .order_by(col(InboxEntry.seq))
        .limit(1)
    )
    return rows.first()


async def prune_inboxes(session: AsyncSession, *, before: datetime) -> int:
    result = await session.exec(delete(InboxEntry).where(col(InboxEntry.created_at) < before))
    return int(result.rowcount or 0)


async def entries_about(session: AsyncSession, *, contact_ids: list[str]) -> list[InboxEntry]:
    """Every inbox entry about one of the contacts."""
    about_them = col(InboxEntry.data)["contact_id"].as_string().in_(contact_ids)
    return list(await session.exec(select(InboxEntry).where(about_them)))
