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
from switchboard.common.errors import InvalidInput
from switchboard.common.runtime import Runtime
from switchboard.common.subscriptions import Subscriptions
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
