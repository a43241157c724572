"""The desktop's tables: agents and their sign-in, each agent's inbox (the events their stream
replays), and its own view of the contacts, offers and queues agents work on — built from the
events, so the desktop answers agents without calling another service.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch
from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.passwords import hash_password, verify_password
from switchboard.desktop import floor_store
from switchboard.desktop.domain import Holding


class DesktopAgent(SQLModel, table=True):
    __tablename__ = "desktop_agent"

    agent_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    tenants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supervisor: bool = False
    quality_analyst: bool = False
    team: str | None = Field(default=None, max_length=64)
    password_hash: str | None = Field(default=None, max_length=200)
    state: str = Field(default="offline", max_length=16)
    state_reason: str | None = Field(default=None, max_length=200)
    state_since: datetime = Field(default_factory=utcnow)
    last_seq: int = 0
    """The number of the agent's newest inbox entry; `Last-Event-ID` counts in it."""
    extension: str | None = Field(default=None, max_length=32)
    """Their phone extension (where a supervisor's monitor, whisper or barge listens from)."""

    def serves(self, tenant_id: str) -> bool:
        return tenant_id in self.tenants


class DesktopContact(SQLModel, table=True):
    """A contact as its agent sees it: the content as intake masked it, and where it stands."""

    __tablename__ = "desktop_contact"

    contact_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    correlation_id: str = Field(max_length=36)
    channel: str | None = Field(default=None, max_length=16)
    conversation_id: str | None = Field(default=None, max_length=36)
    conversation_token: str | None = Field(default=None, max_length=64)
    received_at: datetime | None = None
    destination: str | None = Field(default=None, max_length=320)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=320, index=True)
    customer_phone: str | None = Field(default=None, max_length=40, index=True)
    subject: str | None = None
    text: str | None = None
    masked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    message_id: str | None = Field(default=None, max_length=998)
    call_id: str | None = Field(default=None, max_length=200)
    """A call's id at the telephony platform (for a supervisor's monitor, whisper, barge)."""
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    queue_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="received", max_length=16)
    """received, queued, offered, assigned, wrapped."""
    agent_id: str | None = Field(default=None, max_length=64, index=True)
    escalated_by: str | None = Field(default=None, max_length=64)
    replied_at: datetime | None = None
    disposition: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=64)
    wrapped_at: datetime | None = None
    also_held: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """Agents who still hold it after handing it on (a warm transfer, a conference) until they
    wrap up."""
    handed_on_by: str | None = Field(default=None, max_length=64)
    """The agent who asked for a transfer, until someone else is assigned it: their wrap-up does
    not end the contact (a chat stays open for the next agent)."""
    transcript: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=True)
    )
    """A chat's lines after the first (customer messages and agents' answers), in order."""
    trace_parent: str | None = Field(default=None, max_length=64)
    """The contact's trace, so the agent's commands join it."""

    @property
    def holding(self) -> Holding:
        return Holding(self.agent_id, self.status, tuple(self.also_held or ()))

    def hold(self, holding: Holding) -> None:
        """Who has the contact now, as `domain` decided."""
        self.agent_id, self.status = holding.agent_id, holding.status
        self.also_held = list(holding.also_held) or None


class DesktopOffer(SQLModel, table=True):
    __tablename__ = "desktop_offer"

    offer_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    tenant_id: str = Field(max_length=64)
    queue_id: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    expires_at: datetime
    status: str = Field(default="open", max_length=16)
    """open, accepted, withdrawn."""
    offered_event_id: str = Field(max_length=36)


class DesktopFollowUp(SQLModel, table=True):
    """A follow-up an agent promised, theirs to keep."""

    __tablename__ = "desktop_follow_up"

    follow_up_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36)
    tenant_id: str = Field(max_length=64)
    due_at: datetime
    channel: str = Field(max_length=16)
    note: str | None = None
    status: str = Field(default="open", max_length=16)
    """open, done."""


class DesktopJob(SQLModel, table=True):
    """A field job asked for from a contact, shown with the customer's context while it is open."""

    __tablename__ = "desktop_job"

    job_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=36, index=True)
    requested_by: str = Field(max_length=64)
    work_type: str = Field(max_length=64)
    priority: str = Field(max_length=16)
    window_start: datetime | None = None
    window_end: datetime | None = None
    status: str = Field(default="requested", max_length=16)
    """requested, then dispatch's job statuses (`job.status`, which may arrive first)."""
    technician_id: str | None = Field(default=None, max_length=64)


class OutboundByAgent(SQLModel, table=True):
    """A call or fax an agent asked for, so the DNC gate's answer reaches that agent."""

    __tablename__ = "desktop_outbound"

    request_id: str = Field(primary_key=True, max_length=64)
    agent_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=36)
    channel: str | None = Field(default=None, max_length=8)
    text: str | None = None
    """The reply's text (an SMS or fax; a call's note): sent, as the agent's `contact.replied`,
    once the gate clears it."""


class SigningKey(SQLModel, table=True):
    """The key session tokens are signed with when none is configured: one row, made once."""

    __tablename__ = "desktop_signing_key"

    id: int = Field(default=1, primary_key=True)
    key_hex: str = Field(max_length=64)


async def signing_key(session: AsyncSession) -> bytes:
    row = await session.get(SigningKey, 1)
    if row is None:
        row = SigningKey(key_hex=secrets.token_hex(32))
        session.add(row)
        await session.flush()
    return bytes.fromhex(row.key_hex)


async def apply_centre(
    session: AsyncSession, centre: CentreConfig, passwords: dict[str, str]
) -> None:
    """Agents (with their passwords hashed) and queue scripts from the centre configuration. A
    password that still matches keeps its hash; presence and inboxes are left as they are."""
    for agent in centre.agents:
        row = await session.get(DesktopAgent, agent.id) or DesktopAgent(
            agent_id=agent.id, name=agent.name
        )
        row.name, row.tenants, row.supervisor = agent.name, list(agent.tenants), agent.supervisor
        row.quality_analyst, row.team = agent.quality_analyst, agent.team
        row.extension = agent.extension
        password = passwords.get(agent.id)
        if password and not (row.password_hash and verify_password(password, row.password_hash)):
            row.password_hash = hash_password(password)
        session.add(row)
    await floor_store.apply_scripts(session, centre=centre)


async def supervisors_of(session: AsyncSession, *, tenant_id: str) -> list[str]:
    rows = await session.exec(select(DesktopAgent).where(col(DesktopAgent.supervisor)))
    return [a.agent_id for a in rows if a.serves(tenant_id)]


async def prefetch_batch(session: AsyncSession, events: list[Any]) -> None:
    """Load the contacts, offers and agents a batch of events is about, a query each, so each
    handler's look-up is answered from the session (an agent's state change looked its agent up,
    and wrote the batch's changes before, once per event)."""
    await prefetch.load(session, DesktopContact, (event.about_contact_id for event in events))
    offer_ids = (offer for event in events if (offer := getattr(event.payload, "offer_id", None)))
    await prefetch.load(session, DesktopOffer, offer_ids)
    changed = (e.payload.agent_id for e in events if isinstance(e.payload, AgentStateChanged))
    await prefetch.load(session, DesktopAgent, changed)


async def contact_row(
    session: AsyncSession, *, contact_id: str, tenant_id: str, correlation_id: str
) -> DesktopContact:
    """The contact's row, made on the first event that mentions it (events of one contact arrive
    on different topics, so any of them may be first)."""
    row = await prefetch.find(session, DesktopContact, contact_id)
    if row is None:
        row = DesktopContact(
            contact_id=contact_id, tenant_id=tenant_id, correlation_id=correlation_id
        )
        session.add(row)
    return row


async def open_offers(session: AsyncSession, *, agent_id: str) -> list[DesktopOffer]:
    rows = await session.exec(
        select(DesktopOffer).where(
            col(DesktopOffer.agent_id) == agent_id,
            col(DesktopOffer.status) == "open",
            col(DesktopOffer.expires_at) > utcnow(),
        )
    )
    return list(rows)


async def open_follow_ups(session: AsyncSession, *, agent_id: str) -> list[DesktopFollowUp]:
    rows = await session.exec(
        select(DesktopFollowUp)
        .where(col(DesktopFollowUp.agent_id) == agent_id, col(DesktopFollowUp.status) == "open")
        .order_by(col(DesktopFollowUp.due_at))
    )
    return list(rows)


async def assigned_contacts(session: AsyncSession, *, agent_id: str) -> list[DesktopContact]:
    return (await holdings(session, agent_ids=[agent_id]))[agent_id]


async def holdings(
    session: AsyncSession, *, agent_ids: list[str]
) -> dict[str, list[DesktopContact]]:
    """The contacts in each agent's hands, in two reads however many agents: assigned to them,
    or handed on while they stay on (a warm transfer, a conference: few at any time, so they are
    looked through here)."""
    held: dict[str, list[DesktopContact]] = {agent_id: [] for agent_id in agent_ids}
    rows = await session.exec(
        select(DesktopContact)
        .where(
            col(DesktopContact.agent_id).in_(agent_ids), col(DesktopContact.status) == "assigned"
        )
        .order_by(col(DesktopContact.received_at))
    )
    for contact in rows:
        held[str(contact.agent_id)].append(contact)
    shared = await session.exec(
        select(DesktopContact).where(col(DesktopContact.also_held).is_not(None))
    )
    for contact in shared:
        for agent_id in contact.also_held or []:
            if agent_id in held:
                held[agent_id].append(contact)
    return held


async def history(
    session: AsyncSession, *, contact: DesktopContact, limit: int = 10
) -> list[DesktopContact]:
    """The same customer's other contacts with this tenant, newest first: the same email address
    or phone number."""
    same = []
    if contact.customer_email:
        same.append(col(DesktopContact.customer_email) == contact.customer_email)
    if contact.customer_phone:
        same.append(col(DesktopContact.customer_phone) == contact.customer_phone)
    if not same:
        return []
    rows = await session.exec(
        select(DesktopContact)
        .where(
            col(DesktopContact.tenant_id) == contact.tenant_id,
            col(DesktopContact.contact_id) != contact.contact_id,
            or_(*same),
        )
        .order_by(col(DesktopContact.received_at).desc())
        .limit(limit)
    )
    return list(rows)


async def open_jobs(session: AsyncSession, *, contact_ids: list[str]) -> list[DesktopJob]:
    rows = await session.exec(
        select(DesktopJob)
        .where(
            col(DesktopJob.contact_id).in_(contact_ids),
            col(DesktopJob.status).not_in(("completed", "cancelled", "failed")),
        )
        .order_by(col(DesktopJob.window_start))
    )
    return list(rows)


async def colleagues(session: AsyncSession, *, tenant_ids: list[str]) -> list[DesktopAgent]:
    """The agents serving any of the tenants."""
    return [a for a in await session.exec(select(DesktopAgent)) if set(a.tenants) & set(tenant_ids)]


async def contacts(session: AsyncSession, *, contact_ids: list[str]) -> list[DesktopContact]:
    rows = await session.exec(
        select(DesktopContact).where(col(DesktopContact.contact_id).in_(contact_ids))
    )
    return list(rows)


async def erase_contacts(session: AsyncSession, *, contact_ids: list[str]) -> tuple[int, int]:
    """What identifies the customer and what they wrote, erased from the contacts and from the
    agents' replies to them: how many of each."""
    contacts = await session.exec(
        update(DesktopContact)
        .where(col(DesktopContact.contact_id).in_(contact_ids))
        .values(
            customer_name=None,
            customer_email=None,
            customer_phone=None,
            subject=None,
            text=None,
            attachments=[],
            transcript=[],
            message_id=None,
            references=[],
        )
    )
    replies = await session.exec(
        update(OutboundByAgent)
        .where(col(OutboundByAgent.contact_id).in_(contact_ids))
        .values(text=None)
    )
    return contacts.rowcount or 0, replies.rowcount or 0
