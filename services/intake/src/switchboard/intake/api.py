"""Intake's HTTP surface for channel systems. Every request is signed (switchboard.common.signing)
by a channel system allowed that channel; a contact is answered 202 only once its event is on the
broker. Every refusal is a 4xx with a `detail` saying why."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from switchboard.common.errors import InvalidInput
from switchboard.common.signing import SIGNATURE_HEADER, SYSTEM_HEADER, TIMESTAMP_HEADER
from switchboard.intake import store
from switchboard.intake.accept import Outcome
from switchboard.intake.adapters.email import parse_email
from switchboard.intake.adapters.multipart import Part, parse_form
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
from switchboard.intake.domain import Unauthenticated, check_signature
from switchboard.intake.settings import IntakeSettings
from switchboard.intake.sms import SmsIn, ingest_sms

router = APIRouter(prefix="/v1", tags=["intake"])

REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "empty or malformed body"},
    401: {"description": "unsigned, forged, stale or replayed request"},
    403: {"description": "the channel system may not hand in this channel or tenant"},
    409: {"description": "a call event for a call never offered"},
    413: {"description": "over the size or page limit"},
    415: {"description": "wrong content type or document type"},
    422: {"description": "not a contact (the detail says why)"},
    503: {"description": "too many events wait for the broker (it is away): send it again later"},
}


class Accepted(BaseModel):
    contact_id: str
    conversation_id: str
    duplicate: bool


@dataclass(frozen=True)
class Headers:
    """The request's headers that authenticate it."""

    system_id: str | None
    timestamp: str | None
    signature: str | None


async def signed_headers(
    system_id: Annotated[str | None, Header(alias=SYSTEM_HEADER)] = None,
    timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER)] = None,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> Headers:
    """A coroutine, not the class itself as the dependency: FastAPI runs a plain callable (a
    class included) in a worker thread, a hop there and back for every request."""
    return Headers(system_id, timestamp, signature)


Signed = Annotated[Headers, Depends(signed_headers)]


@router.post("/email", status_code=202, response_model=Accepted, responses=REFUSALS)
async def post_email(request: Request, signed: Signed) -> JSONResponse:
    """One raw RFC 5322 email (`Content-Type: message/rfc822`)."""
    intake, settings = _context(request)
    _content_type(request, "message/rfc822")
    raw = await _read_limited(request, settings.intake_max_email_bytes)
    sender = await _authenticate(intake, raw, signed, channel="email")
    email = await intake.offload.run(
        parse_email,
        raw,
        max_text_chars=settings.intake_max_text_chars,
        limits=settings.email_limits,
    )
    return await _answer(intake, await ingest_email(intake, email, sender))


@router.post("/phone/events", status_code=202, response_model=Accepted, responses=REFUSALS)
async def post_phone_event(request: Request, signed: Signed) -> JSONResponse:
    """One CTI event as JSON: offered (creates the contact), answered, abandoned, ended,
    voicemail, callback_requested (attach to it)."""
    intake, settings = _context(request)
    _content_type(request, "application/json")
    raw = await _read_limited(request, settings.intake_max_cti_bytes)
    sender = await _authenticate(intake, raw, signed, channel="phone")
    event = parse_cti(raw, max_depth=settings.intake_max_json_depth)
    return await _answer(intake, await ingest_call_event(intake, event, sender))


@router.post("/letter", status_code=202, response_model=Accepted, responses=REFUSALS)
async def post_letter(request: Request, signed: Signed) -> JSONResponse:
    """A scanned letter (multipart/form-data): `file` (PDF, TIFF or PNG), `batch_id`, `item`,
    and optionally `sender_name`, `postal_address`, `received_date` (YYYY-MM-DD)."""
    intake, settings = _context(request)
    raw = await _read_limited(request, settings.intake_max_document_bytes)
    sender = await _authenticate(intake, raw, signed, channel="letter")
    form = await _form(intake, request, raw)
    letter = Letter(
        batch_id=_required(form, "batch_id"),
        item=_required(form, "item"),
        sender_name=_optional(form, "sender_name"),
        postal_address=_optional(form, "postal_address"),
        received_date=_date(_optional(form, "received_date")),
        document=_file(form),
    )
    return await _answer(intake, await ingest_letter(intake, letter, sender))


@router.post("/fax", status_code=202, response_model=Accepted, responses=REFUSALS)
async def post_fax(request: Request, signed: Signed) -> JSONResponse:
    """A received fax (multipart/form-data): `file` (TIFF or PDF), `fax_id`, `called_number`, and
    optionally `calling_number`, `csid`, `pages`."""
    intake, settings = _context(request)
    raw = await _read_limited(request, settings.intake_max_document_bytes)
    sender = await _authenticate(intake, raw, signed, channel="fax")
    form = await _form(intake, request, raw)
    pages = _optional(form, "pages")
    if pages is not None and not (re.fullmatch(r"[0-9]{1,5}", pages) and int(pages) > 0):
        raise InvalidInput("pages must be a whole number of pages, 1 to 99999")
    fax = Fax(
        fax_id=_required(form, "fax_id"),
        called_number=_required(form, "called_number"),
        calling_number=_optional(form, "calling_number"),
        csid=_optional(form, "csid"),
        pages=int(pages) if pages else None,
        document=_file(form),
    )
    return await _answer(intake, await ingest_fax(intake, fax, sender))


@router.post("/sms", status_code=202, response_model=Accepted, responses=REFUSALS)
async def post_sms(request: Request, signed: Signed) -> JSONResponse:
    """One inbound SMS as JSON: `message_id`, `from`, `to` (the number texted), `text`, and
    optionally `received_at`. It joins the sender's conversation when they were in touch lately."""
    intake, settings = _context(request)
    _content_type(request, "application/json")
    raw = await _read_limited(request, settings.intake_max_cti_bytes)
    sender = await _authenticate(intake, raw, signed, channel="sms")
    try:
        message = SmsIn.model_validate_json(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"not an SMS: {problems}") from None
    return await _answer(intake, await ingest_sms(intake, message, sender))


def _context(request: Request) -> tuple[Intake, IntakeSettings]:
    """The intake behind this request, refusing it for now when the broker has been away so long
    that the events it has not taken pile up."""
    intake = Intake.of(request)
    if (waiting := intake.held_back()) is not None:
        raise HTTPException(
            503,
            f"{waiting} events are waiting for the broker; send this again later",
            headers={"Retry-After": "30"},
        )
    return intake, intake.settings


async def _form(intake: Intake, request: Request, raw: bytes) -> dict[str, Part]:
    content_type = request.headers.get("content-type", "")
    return await intake.offload.run(
        parse_form, content_type, raw, max_parts=intake.settings.intake_max_form_parts
    )


def _content_type(request: Request, expected: str) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != expected:
        raise InvalidInput(f"Content-Type must be {expected}", status=415)


def _optional(form: dict[str, Part], name: str) -> str | None:
    part = form.get(name)
    value = part.text() if part is not None else ""
    if len(value) > 1000:
        raise InvalidInput(f"form field {name!r} is longer than 1000 characters")
    return value or None


def _required(form: dict[str, Part], name: str) -> str:
    value = _optional(form, name)
    if value is None:
        raise InvalidInput(f"form field {name!r} is required")
    return value


def _file(form: dict[str, Part]) -> bytes:
    part = form.get("file")
    if part is None or not part.data:
        raise InvalidInput("form field 'file' (the document) is required and must not be empty")
    return part.data


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("received_date must be YYYY-MM-DD") from None


async def _answer(intake: Intake, outcome: Outcome) -> JSONResponse:
    """202 once the contact and its event are committed: the outbox is as durable as the record,
    and the relay hands the event to the broker from there (a broker away delays it, never loses
    it). Waiting for the broker's acknowledgement too cost every request a relay round."""
    trace.get_current_span().set_attribute("switchboard.contact_id", outcome.contact_id)
    body = Accepted(
        contact_id=outcome.contact_id,
        conversation_id=outcome.conversation_id,
        duplicate=outcome.duplicate,
    )
    return JSONResponse(body.model_dump(), status_code=202)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and re.fullmatch(r"[0-9]{1,20}", declared) and int(declared) > limit:
        raise InvalidInput(f"body larger than the {limit}-byte limit", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"body larger than the {limit}-byte limit", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _authenticate(intake: Intake, raw: bytes, signed: Headers, *, channel: str) -> Sender:
    if not signed.system_id:
        raise Unauthenticated(f"missing {SYSTEM_HEADER}")
    system = await intake.directory.channel_system(signed.system_id)
    check_signature(
        secret=system.secret if system else None,
        timestamp=signed.timestamp,
        presented=signed.signature,
        body=raw,
        now=time.time(),
        window_seconds=intake.settings.intake_signature_window_seconds,
    )
    assert system is not None and signed.signature is not None
    if channel not in system.channels.split(","):
        raise InvalidInput(
            f"channel system {system.id!r} may not hand in {channel} contacts", status=403
        )
    try:
        async with intake.runtime.db.session() as session:
            await store.remember_signature(session, signature=signed.signature.strip())
    except IntegrityError:
        raise Unauthenticated("replayed request: this signature was already used") from None
    trace.get_current_span().set_attribute("switchboard.tenant_id", system.tenant_id)
    return Sender(system.tenant_id)
