"""Accepting: one transaction records the receipt under the channel's own id (so a redelivery is
recognised) and writes the event to the outbox, or neither happens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.db import write_new
from switchboard.common.envelope import Envelope, Payload, utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.events.intake import Channel, ContactReceived
from switchboard.common.ids import new_id
from switchboard.common.runtime import Runtime, Transaction
from switchboard.intake import store
from switchboard.intake.domain import new_conversation_token


@dataclass(frozen=True)
class Outcome:
    contact_id: str
    conversation_id: str
    duplicate: bool


@dataclass(frozen=True)
class NewContact:
    tenant_id: str
    channel: Channel
    external_id: str
    payload: Callable[[str], ContactReceived]
    """The event's payload, given the conversation the contact joins."""
    replies_to: list[str] = field(default_factory=list)
    """Email: Message-IDs this message answers, nearest first."""
    subject_tokens: list[str] = field(default_factory=list)
    """Email: conversation tokens found in the subject."""
    customer_address: str = ""
    """Who the contact is from (email address or E.164 number), for joining conversations."""
    recent_since: datetime | None = None
    """Join the customer's latest conversation if they were in touch since then (SMS)."""
    within: Callable[[AsyncSession, Outcome], Awaitable[None]] | None = None
    """More to write in the contact's own transaction (a chat's first line)."""


async def accept_contact(runtime: Runtime, new: NewContact) -> Outcome:
    try:
        async with runtime.transaction() as tx:
            return await record_contact(tx, new)
    except IntegrityError:
        # The same contact arrived twice at once and the other request won: this one finds its
        # receipt and is answered as the duplicate it is.
        async with runtime.transaction() as tx:
            return await record_contact(tx, new)


async def record_contact(tx: Transaction, new: NewContact) -> Outcome:
    """Record the contact in `tx` (a consumer's own transaction, or one of its own)."""
    receipt = await store.find_receipt(
        tx.session, tenant_id=new.tenant_id, channel=new.channel, external_id=new.external_id
    )
    if receipt is not None:
        return Outcome(receipt.contact_id, receipt.conversation_id, True)
    contact_id = new_id()
    conversation = await store.conversation_of(
        tx.session,
        tenant_id=new.tenant_id,
        message_ids=new.replies_to,
        tokens=new.subject_tokens,
        customer=new.customer_address,
    )
    if conversation is None and new.recent_since is not None:
        conversation = await store.recent_conversation(
            tx.session,
            tenant_id=new.tenant_id,
            customer=new.customer_address,
            since=new.recent_since,
        )
    new_rows: list[SQLModel] = []
    if conversation is None:
        conversation = store.Conversation(
            conversation_id=new_id(),
            tenant_id=new.tenant_id,
            token=new_conversation_token(),
            customer_address=new.customer_address,
            last_contact_at=utcnow(),
        )
        new_rows.append(conversation)
    else:
        conversation.last_contact_at = utcnow()
        tx.session.add(conversation)
    conversation_id = conversation.conversation_id
    event = Envelope.first(
        new.payload(conversation_id).model_copy(update={"conversation_token": conversation.token}),
        tenant_id=new.tenant_id,
        aggregate_id=contact_id,
        contact_id=contact_id,
    )
    await tx.emit(event)
    new_rows.append(
        store.Receipt(
            tenant_id=new.tenant_id,
            channel=new.channel,
            external_id=new.external_id,
            contact_id=contact_id,
            conversation_id=conversation_id,
            event_id=event.event_id,
        )
    )
    if new.channel == "email":  # new, as its receipt was: remember it for replies
        new_rows.append(
            store.EmailThread(
                tenant_id=new.tenant_id,
                message_id=new.external_id,
                conversation_id=conversation_id,
                customer_address=new.customer_address,
            )
        )
    await write_new(tx.session, *new_rows)
    outcome = Outcome(contact_id, conversation_id, False)
    if new.within is not None:
        await new.within(tx.session, outcome)
    await tx.session.flush()
    return outcome


async def accept_call_event(
    runtime: Runtime, *, tenant_id: str, call_id: str, kind: str, payload: Payload
) -> Outcome:
    """A later event of a call: it attaches to the call's contact, once."""
    try:
        return await _record_call_event(runtime, tenant_id, call_id, kind, payload)
    except IntegrityError:
        return await _record_call_event(runtime, tenant_id, call_id, kind, payload)


async def _record_call_event(
    runtime: Runtime, tenant_id: str, call_id: str, kind: str, payload: Payload
) -> Outcome:
    async with runtime.transaction() as tx:
        call = await store.find_receipt(
            tx.session, tenant_id=tenant_id, channel="phone", external_id=call_id
        )
        if call is None:
            raise InvalidInput(
                f"no call {call_id!r} was offered: send its 'offered' event first", status=409
            )
        external_id = f"{call_id}:{kind}"
        seen = await store.find_receipt(
            tx.session, tenant_id=tenant_id, channel="phone", external_id=external_id
        )
        if seen is not None:
            return Outcome(seen.contact_id, seen.conversation_id, True)
        event = Envelope.first(
            payload,
            tenant_id=tenant_id,
            aggregate_id=call.contact_id,
            contact_id=call.contact_id,
            correlation_id=call.event_id,
        )
        await tx.emit(event)
        await write_new(
            tx.session,
            store.Receipt(
                tenant_id=tenant_id,
                channel="phone",
                external_id=external_id,
                contact_id=call.contact_id,
                conversation_id=call.conversation_id,
                event_id=event.event_id,
            ),
        )
    return Outcome(call.contact_id, call.conversation_id, False)
