"""Intake's consumers: channel systems that write straight to Kafka (`intake.<channel>.raw`).

The same normalisation as the HTTP API; a raw message that cannot become a contact raises
InvalidInput, a PermanentError, and is dead-lettered with the reason. These paths are trusted
(Kafka's own authorisation decides who may write them), so the destination alone names the tenant;
letters name their mailroom channel system.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord

from switchboard.common import topics
from switchboard.common.compliance.pii import mask_sensitive, merge_kinds
from switchboard.common.envelope import Envelope
from switchboard.common.errors import InvalidInput
from switchboard.common.events.channels import CallControl, CallRoute, ChatActivity, WalkInLogged
from switchboard.common.events.desktop import ReplySent
from switchboard.common.events.intake import ContactReceived, WalkInDetails
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.runtime import Runtime, Transaction
from switchboard.common.subscriptions import Subscriptions
from switchboard.intake import chat, egress, privacy, store, voice
from switchboard.intake.accept import NewContact, record_contact
from switchboard.intake.adapters.email import parse_email
from switchboard.intake.adapters.phone import parse_cti
from switchboard.intake.channels import (
    Fax,
    Letter,
    Sender,
    ingest_call_event,
    ingest_email,
    ingest_fax,
    ingest_letter,
)
from switchboard.intake.context import Intake

SERVICE = "intake"
subscriptions = Subscriptions(
    SERVICE,
    emits=(
        topics.CONTACT_RECEIVED,
        topics.CALL_ANSWERED,
        topics.CALL_ABANDONED,
        topics.CALL_ENDED,
        topics.CALL_VOICEMAIL_LEFT,
        topics.CALL_CALLBACK_REQUESTED,
        topics.CHAT_MESSAGE,
        topics.CHAT_ACTIVITY,
        topics.CALL_COMMAND_RESULT,
        topics.ERASURE_APPLIED,
    ),
)

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


@subscriptions.on_raw(topics.INTAKE_EMAIL_RAW)
async def on_raw_email(record: Record, runtime: Runtime) -> None:
    intake = Intake.of(runtime)
    raw = record.value or b""
    limit = intake.settings.intake_max_email_bytes
    if len(raw) > limit:
        raise InvalidInput(f"message larger than the {limit}-byte limit", status=413)
    settings = intake.settings
    email = await intake.offload.run(
        parse_email,
        raw,
        max_text_chars=settings.intake_max_text_chars,
        limits=settings.email_limits,
    )
    await ingest_email(intake, email, Sender(None))


@subscriptions.on_raw(topics.INTAKE_PHONE_RAW)
async def on_raw_phone_event(record: Record, runtime: Runtime) -> None:
    intake = Intake.of(runtime)
    event = parse_cti(record.value or b"", max_depth=intake.settings.intake_max_json_depth)
    await ingest_call_event(intake, event, Sender(None))


@subscriptions.on_raw(topics.INTAKE_LETTER_RAW)
async def on_raw_letter(record: Record, runtime: Runtime) -> None:
    data = _json_object(record)
    system_id = _text(data, "system")
    intake = Intake.of(runtime)
    system = await intake.directory.channel_system(system_id)
    if system is None or "letter" not in system.channels.split(","):
        raise InvalidInput(f"{system_id!r} is not a mailroom channel system")
    received = data.get("received_date")
    letter = Letter(
        batch_id=_text(data, "batch_id"),
        item=_text(data, "item"),
        sender_name=data.get("sender_name"),
        postal_address=data.get("postal_address"),
        received_date=date.fromisoformat(received) if isinstance(received, str) else None,
        document=_document(data),
    )
    await ingest_letter(intake, letter, Sender(system.tenant_id))


@subscriptions.on_raw(topics.INTAKE_FAX_RAW)
async def on_raw_fax(record: Record, runtime: Runtime) -> None:
    data = _json_object(record)
    pages = data.get("pages")
    fax = Fax(
        fax_id=_text(data, "fax_id"),
        called_number=_text(data, "called_number"),
        calling_number=data.get("calling_number"),
        csid=data.get("csid"),
        pages=pages if isinstance(pages, int) else None,
        document=_document(data),
    )
    await ingest_fax(Intake.of(runtime), fax, Sender(None))


@subscriptions.on(topics.WALK_IN_LOGGED)
async def on_walk_in(event: Envelope[WalkInLogged], tx: Transaction) -> None:
    """A customer at the counter, logged by the agent serving them: a contact like any other,
    received when they arrived, and already that agent's (routing assigns it to them)."""
    walk_in = event.payload
    text = mask_sensitive(walk_in.text)
    subject = mask_sensitive(walk_in.subject)

    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel="walk_in",
            conversation_id=conversation_id,
            received_at=walk_in.started_at,
            destination="counter",
            external_id=walk_in.walk_in_id,
            customer=walk_in.customer,
            subject=subject.text,
            text=text.text,
            walk_in=WalkInDetails(
                walk_in_id=walk_in.walk_in_id,
                agent_id=walk_in.agent_id,
                started_at=walk_in.started_at,
            ),
            masked=merge_kinds(subject.kinds, text.kinds),
        )

    customer = walk_in.customer.email or walk_in.customer.phone or ""
    await record_contact(
        tx,
        NewContact(
            tenant_id=event.tenant_id,
            channel="walk_in",
            external_id=walk_in.walk_in_id,
            payload=payload,
            customer_address=customer,
        ),
    )


@subscriptions.on(topics.CONTACT_REPLIED)
async def on_contact_replied(event: Envelope[ReplySent], tx: Transaction) -> None:
    """An agent's chat answer goes into the customer's window; a cleared SMS or fax reply to the
    channel system (a call back is dialled by its own `call.control`)."""
    intake, reply = Intake.of(tx), event.payload
    if reply.channel == "chat":
        await chat.agent_said(
            tx,
            intake,
            contact_id=event.about_contact_id,
            event_id=event.event_id,
            agent_id=reply.agent_id,
            text=reply.text,
        )
    elif reply.channel in ("sms", "fax"):
        await egress.send_reply(tx, intake.settings, event)


@subscriptions.on(topics.CHAT_ACTIVITY)
async def on_chat_activity(event: Envelope[ChatActivity], tx: Transaction) -> None:
    """An agent typing, or closing the chat (their wrap-up), shown in the customer's window."""
    activity = event.payload
    if activity.by != "agent" or activity.kind not in ("typing", "ended"):
        return
    found = await store.chat_of_contact(tx.session, contact_id=event.about_contact_id)
    if found is None:
        return
    if activity.kind == "typing":
        chat.agent_typing(Intake.of(tx), found.session_id)
    else:
        await chat.ended(tx, Intake.of(tx), found)


@subscriptions.on(topics.CUSTOMER_CORRECTED)
async def on_customer_corrected(event: Envelope[CustomerCorrected], tx: Transaction) -> None:
    await privacy.correct(tx, event)


@subscriptions.on(topics.ERASURE_REQUESTED)
async def on_erasure_requested(event: Envelope[ErasureRequested], tx: Transaction) -> None:
    await privacy.erase(tx, Intake.of(tx), event)


@subscriptions.on(topics.CALL_ROUTE)
async def on_call_route(event: Envelope[CallRoute], tx: Transaction) -> None:
    await voice.deliver(tx, Intake.of(tx), event)


@subscriptions.on(topics.CALL_CONTROL)
async def on_call_control(event: Envelope[CallControl], tx: Transaction) -> None:
    await voice.deliver(tx, Intake.of(tx), event)


def _json_object(record: Record) -> dict[str, Any]:
    try:
        data = json.loads(record.value or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("value is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("value is not a JSON object")
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name!r} is required")
    return value.strip()


def _document(data: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(_text(data, "document_base64"), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("document_base64 is not base64") from None
