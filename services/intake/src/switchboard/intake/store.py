"""Intake's tables and queries: channel systems, receiving addresses, receipts (idempotency by the
channel's own id), seen signatures (replay protection) and email threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.centre import CentreConfig
from switchboard.common.db import write_new
from switchboard.common.envelope import utcnow
from switchboard.common.phone import e164
from switchboard.common.privacy import ERASED


class ChannelSystem(SQLModel, table=True):
    __tablename__ = "intake_channel_system"

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64)
    secret: str = Field(max_length=200)
    channels: str = Field(default="", max_length=200, description="comma-separated channels")
    control_url: str | None = Field(default=None, max_length=500)
    """A telephony platform's call-control webhook (call.route, call.control are delivered there)."""
    send_url: str | None = Field(default=None, max_length=500)
    """An SMS gateway's send webhook."""


class Destination(SQLModel, table=True):
    """A receiving address (email address, E.164 number) and the tenant it belongs to."""

    __tablename__ = "intake_destination"

    channel: str = Field(primary_key=True, max_length=16)
    address: str = Field(primary_key=True, max_length=320)
    tenant_id: str = Field(max_length=64)


class Receipt(SQLModel, table=True):
    """One per thing accepted (a contact, or a later event of a call), under the channel's own id
    (Message-ID, call id[:event], mailroom batch:item, fax id): a redelivery finds it and is answered
    with the same ids, publishing nothing new."""

    __tablename__ = "intake_receipt"

    tenant_id: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=16)
    external_id: str = Field(primary_key=True, max_length=500)
    contact_id: str = Field(max_length=36, index=True)
    conversation_id: str = Field(max_length=36)
    event_id: str = Field(max_length=36)
    received_at: datetime = Field(default_factory=utcnow)


class IntakeTenant(SQLModel, table=True):
    """What intake needs to know of a tenant: the region its local phone numbers are written in."""

    __tablename__ = "intake_tenant"

    tenant_id: str = Field(primary_key=True, max_length=64)
    region: str = Field(default="AU", max_length=2)


class SeenSignature(SQLModel, table=True):
    __tablename__ = "intake_seen_signature"

    signature: str = Field(primary_key=True, max_length=80)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class Conversation(SQLModel, table=True):
    """A conversation with one customer; its token (`[SB-XXXXXXXX]` in a subject) lets a reply that
    lost its headers find it, but only from that customer: tokens can be guessed."""

    __tablename__ = "intake_conversation"

    conversation_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    token: str = Field(max_length=16, unique=True)
    customer_address: str = Field(max_length=320)
    last_contact_at: datetime | None = Field(default=None, index=True)
    """When the customer's latest contact joined it (an SMS joins a recent one by number)."""


class EmailThread(SQLModel, table=True):
    """Message-IDs Switchboard has seen, so a reply finds its conversation."""

    __tablename__ = "intake_email_thread"

    tenant_id: str = Field(primary_key=True, max_length=64)
    message_id: str = Field(primary_key=True, max_length=500)
    conversation_id: str = Field(max_length=36)
    customer_address: str = Field(max_length=320)


class ChatSession(SQLModel, table=True):
    """A customer's web chat: the browser holds its id and a secret (only the secret's hash is
    kept), and resumes it with them after a reconnect. One chat is one contact."""

    __tablename__ = "intake_chat_session"

    session_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64)
    entry: str = Field(max_length=320)
    secret_sha256: str = Field(max_length=64)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=320)
    contact_id: str | None = Field(default=None, max_length=36, index=True)
    last_seq: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class ChatLine(SQLModel, table=True):
    """One message of a chat, numbered: what a resumed window is sent again from its last seen."""

    __tablename__ = "intake_chat_line"

    session_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    sender: str = Field(max_length=16)
    """customer or agent."""
    text: str
    at: datetime = Field(default_factory=utcnow)
    source_id: str = Field(max_length=64, unique=True)
    """The customer's message id (their browser's) or the agent's reply event: each once."""
    agent_id: str | None = Field(default=None, max_length=64)
    delivered_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """A command or message handed to a channel system (a call command, an SMS), once: a
    redelivered event finds it and is not sent again."""

    __tablename__ = "intake_delivery"

    delivery_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    tenant_id: str = Field(max_length=64)
    outcome: str = Field(max_length=32)
    attempts: int
    detail: str = Field(default="", max_length=500)
    delivered_at: datetime = Field(default_factory=utcnow)


async def recent_conversation(
    session: AsyncSession, *, tenant_id: str, customer: str, since: datetime
) -> Conversation | None:
    """The customer's latest conversation, if they were in touch since `since` (a text message
    carries no thread: its number and time are all there is)."""
    query = select(Conversation).where(
        Conversation.tenant_id == tenant_id,
        Conversation.customer_address == customer,
        col(Conversation.last_contact_at) >= since,
    )
    return (await session.exec(query.order_by(col(Conversation.last_contact_at).desc()))).first()


async def system_for(
    session: AsyncSession, *, tenant_id: str, channel: str
) -> ChannelSystem | None:
    """The tenant's channel system for `channel` (its webhook and secret for what goes out)."""
    for system in await session.exec(
        select(ChannelSystem)
        .where(ChannelSystem.tenant_id == tenant_id)
        .order_by(col(ChannelSystem.id))
    ):
        if channel in system.channels.split(","):
            return system
    return None


async def own_address(session: AsyncSession, *, tenant_id: str, channel: str) -> str | None:
    """The tenant's first receiving address on `channel` (an SMS reply comes from it)."""
    query = select(Destination.address).where(
        Destination.tenant_id == tenant_id, Destination.channel == channel
    )
    return (await session.exec(query.order_by(col(Destination.address)))).first()


async def chat_of_contact(session: AsyncSession, *, contact_id: str) -> ChatSession | None:
    query = select(ChatSession).where(ChatSession.contact_id == contact_id)
    return (await session.exec(query)).first()


async def next_chat_seq(session: AsyncSession, *, session_id: str) -> int:
    """The chat's next line number, taken atomically (the customer and an agent may write at
    once, from different processes)."""
    statement = (
        update(ChatSession)
        .where(col(ChatSession.session_id) == session_id)
        .values(last_seq=col(ChatSession.last_seq) + 1)
        .returning(col(ChatSession.last_seq))
    )
    return int((await session.exec(statement)).scalar_one())


async def chat_line_from(session: AsyncSession, *, source_id: str) -> int | None:
    """The number of the line written for `source_id` (a message id or a reply event), if any."""
    rows = await session.exec(select(ChatLine.seq).where(ChatLine.source_id == source_id))
    return rows.first()


async def chat_lines(session: AsyncSession, *, session_id: str, after: int) -> list[ChatLine]:
    query = select(ChatLine).where(ChatLine.session_id == session_id, col(ChatLine.seq) > after)
    return list(await session.exec(query.order_by(col(ChatLine.seq))))


async def find_receipt(
    session: AsyncSession, *, tenant_id: str, channel: str, external_id: str
) -> Receipt | None:
    return await session.get(Receipt, (tenant_id, channel, external_id))


async def tenant_of_call(session: AsyncSession, *, call_id: str) -> str | None:
    """The tenant a call was offered to (for later events that arrive without a channel system)."""
    rows = await session.exec(
        select(Receipt.tenant_id).where(Receipt.channel == "phone", Receipt.external_id == call_id)
    )
    return rows.first()


async def remember_signature(session: AsyncSession, *, signature: str) -> None:
    """Raises IntegrityError when the signature was seen before (a replay)."""
    await write_new(session, SeenSignature(signature=signature))


async def forget_signatures_before(session: AsyncSession, *, cutoff: datetime) -> None:
    await session.exec(delete(SeenSignature).where(col(SeenSignature.seen_at) < cutoff))


async def conversation_of(
    session: AsyncSession,
    *,
    tenant_id: str,
    message_ids: list[str],
    tokens: list[str],
    customer: str,
) -> Conversation | None:
    """The conversation an email from `customer` continues: by a Message-ID it answers, else by a
    subject token; either only when the conversation is that customer's (a reply to a bulk mailing
    is not merged with other recipients' replies, a guessed token joins nothing)."""
    for message_id in message_ids:
        thread = await session.get(EmailThread, (tenant_id, message_id))
        if thread is not None and thread.customer_address == customer:
            return await session.get(Conversation, thread.conversation_id)
    for token in tokens:
        rows = await session.exec(
            select(Conversation).where(
                Conversation.tenant_id == tenant_id, Conversation.token == token
            )
        )
        conversation = rows.first()
        if conversation is not None and conversation.customer_address == customer:
            return conversation
    return None


async def apply_centre(
    session: AsyncSession, centre: CentreConfig, secrets: dict[str, str]
) -> None:
    """Upsert the receiving addresses and channel systems of the centre configuration."""
    for tenant in centre.tenants:
        await session.merge(IntakeTenant(tenant_id=tenant.id, region=tenant.region))
        for channel, addresses in tenant.addresses.model_dump().items():
            for address in addresses:
                normal = (
                    address.lower()
                    if channel in ("email", "chat")
                    else e164(address, tenant.region)
                )
                await session.merge(
                    Destination(channel=channel, address=normal, tenant_id=tenant.id)
                )
    for system in centre.channel_systems:
        await session.merge(
            ChannelSystem(
                id=system.id,
                tenant_id=system.tenant,
                secret=secrets[system.id],
                channels=",".join(system.channels),
                control_url=system.control_url,
                send_url=system.send_url,
            )
        )


async def erase_addresses(session: AsyncSession, *, conversation_ids: list[str]) -> tuple[int, int]:
    """The customer's address erased from their conversations and email threads: how many of
    each."""
    conversations = await session.exec(
        update(Conversation)
        .where(col(Conversation.conversation_id).in_(conversation_ids))
        .values(customer_address=ERASED)
    )
    threads = await session.exec(
        update(EmailThread)
        .where(col(EmailThread.conversation_id).in_(conversation_ids))
        .values(customer_address=ERASED)
    )
    return conversations.rowcount or 0, threads.rowcount or 0


async def erase_chats(session: AsyncSession, *, contact_ids: list[str]) -> tuple[int, int]:
    """The customer's name, email and words erased from the chats of their contacts: how many
    chats and lines."""
    chats = list(
        await session.exec(
            select(ChatSession.session_id).where(col(ChatSession.contact_id).in_(contact_ids))
        )
    )
    await session.exec(
        update(ChatSession)
        .where(col(ChatSession.session_id).in_(chats))
        .values(customer_name=None, customer_email=None)
    )
    lines = await session.exec(
        update(ChatLine).where(col(ChatLine.session_id).in_(chats)).values(text=ERASED)
    )
    return len(chats), lines.rowcount or 0


async def conversations_and_threads(
    session: AsyncSession, *, conversation_ids: list[str]
) -> tuple[list[Conversation], list[EmailThread]]:
    conversations = await session.exec(
        select(Conversation).where(col(Conversation.conversation_id).in_(conversation_ids))
    )
    threads = await session.exec(
        select(EmailThread).where(col(EmailThread.conversation_id).in_(conversation_ids))
    )
    return list(conversations), list(threads)


async def directory(
    session: AsyncSession,
) -> tuple[list[ChannelSystem], list[Destination], list[IntakeTenant]]:
    """Every channel system, destination address and tenant: what intake's directory caches."""
    systems = await session.exec(select(ChannelSystem))
    destinations = await session.exec(select(Destination))
    tenants = await session.exec(select(IntakeTenant))
    return list(systems), list(destinations), list(tenants)
