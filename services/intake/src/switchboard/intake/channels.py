"""Each channel's way in: normalise what the channel system sent (masking card numbers, TFNs and
Medicare numbers before anything is published, logged or traced), resolve the tenant, accept.

The HTTP API, the SMTP listener and the raw Kafka topics all come through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from switchboard.common.compliance.pii import mask_sensitive, merge_kinds
from switchboard.common.envelope import utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.events.intake import (
    AttachmentRef,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    Channel,
    ContactReceived,
    DocumentDetails,
    EmailDetails,
    Party,
    PhoneDetails,
    VoicemailLeft,
)
from switchboard.common.phone import e164
from switchboard.intake import store
from switchboard.intake.accept import NewContact, Outcome, accept_call_event, accept_contact
from switchboard.intake.adapters.blobs import BlobStore
from switchboard.intake.adapters.documents import read_document
from switchboard.intake.adapters.email import ParsedEmail
from switchboard.intake.adapters.ocr import Tesseract
from switchboard.intake.adapters.phone import (
    CallAbandonedIn,
    CallAnsweredIn,
    CallbackRequestedIn,
    CallEndedIn,
    CallOfferedIn,
    CtiEvent,
    VoicemailIn,
    caller_number,
)
from switchboard.intake.context import Intake
from switchboard.intake.domain import (
    plausible_event_time,
    resolve_tenant,
    subject_tokens,
    thread_candidates,
)

TEXT_BUDGET_BYTES = 500_000
"""A contact's text as one event carries it, at most: with its subject, addresses, attachments'
descriptions and warnings (each bounded by intake's limits) it stays under the event limit
(switchboard.common.outbox.MAX_EVENT_BYTES)."""


def fitted(text: str, warnings: list[str]) -> str:
    """`text`, cut to fit `TEXT_BUDGET_BYTES` as JSON (a control character takes six bytes there,
    a CJK one three), with a warning when it had to be cut."""
    size = len(json.dumps(text, ensure_ascii=False).encode())
    if size <= TEXT_BUDGET_BYTES:
        return text
    keep = len(text)
    while size > TEXT_BUDGET_BYTES:
        keep = int(keep * TEXT_BUDGET_BYTES / size * 0.95)
        size = len(json.dumps(text[:keep], ensure_ascii=False).encode())
    warnings.append(f"text cut to {keep} characters to fit one event")
    return text[:keep]


@dataclass(frozen=True)
class Sender:
    """Who handed the contact in: a channel system (its tenant only), or a trusted path (the SMTP
    listener, a raw topic) where the destination alone decides the tenant."""

    tenant_id: str | None


async def ingest_email(
    intake: Intake,
    email: ParsedEmail,
    sender: Sender,
    *,
    recipients: list[str] | None = None,
) -> Outcome:
    settings = intake.settings
    wanted = list(recipients or email.recipients)
    known = await intake.directory.destinations("email", wanted)
    tenant_id, destination = resolve_tenant(wanted, known, system_tenant=sender.tenant_id)
    blobs = BlobStore(settings.var_dir / "blobs")
    for attachment in email.attachments:
        blobs.put(attachment.sha256, attachment.data)
    subject, text = (
        mask_sensitive(email.subject),
        mask_sensitive(fitted(email.text, email.warnings)),
    )

    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel="email",
            conversation_id=conversation_id,
            received_at=utcnow(),
            destination=destination,
            external_id=email.message_id,
            customer=Party(name=email.sender_name, email=email.sender_address),
            subject=subject.text,
            text=text.text,
            attachments=[
                AttachmentRef(
                    filename=a.filename,
                    content_type=a.content_type,
                    size=len(a.data),
                    sha256=a.sha256,
                )
                for a in email.attachments
            ],
            email=EmailDetails(
                message_id=email.message_id,
                in_reply_to=email.in_reply_to,
                references=email.references,
                to=email.to,
                cc=email.cc,
            ),
            flags=email.flags,
            parse_warnings=email.warnings,
            masked=merge_kinds(subject.kinds, text.kinds),
        )

    return await accept_contact(
        intake.runtime,
        NewContact(
            tenant_id=tenant_id,
            channel="email",
            external_id=email.message_id,
            payload=payload,
            replies_to=thread_candidates(email.in_reply_to, email.references),
            subject_tokens=subject_tokens(email.subject),
            customer_address=email.sender_address,
        ),
    )


async def ingest_call_event(intake: Intake, event: CtiEvent, sender: Sender) -> Outcome:
    settings = intake.settings
    plausible_event_time(
        event.at,
        now=utcnow(),
        max_age=timedelta(hours=settings.intake_call_event_max_age_hours),
        max_ahead=timedelta(seconds=settings.intake_call_event_max_ahead_seconds),
    )
    if isinstance(event, CallOfferedIn):
        return await _call_offered(intake, event, sender)
    tenant_id = sender.tenant_id
    if tenant_id is None:
        async with intake.runtime.db.reader() as session:
            tenant_id = await store.tenant_of_call(session, call_id=event.call_id)
        if tenant_id is None:
            raise InvalidInput(
                f"no call {event.call_id!r} was offered: send its 'offered' event first", status=409
            )
    return await accept_call_event(
        intake.runtime,
        tenant_id=tenant_id,
        call_id=event.call_id,
        kind=event.event,
        payload=await _follow_up(intake, tenant_id, event),
    )


async def _call_offered(intake: Intake, event: CallOfferedIn, sender: Sender) -> Outcome:
    wanted = [e164(event.dnis, "AU")]
    known = await intake.directory.destinations("phone", wanted)
    tenant_id, dnis = resolve_tenant(wanted, known, system_tenant=sender.tenant_id)
    region = await intake.directory.region(tenant_id)
    warnings: list[str] = []
    ani = caller_number(event.ani, region, warnings)

    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel="phone",
            conversation_id=conversation_id,
            received_at=event.at,
            destination=dnis,
            external_id=event.call_id,
            customer=Party(name=event.caller_name, phone=ani),
            phone=PhoneDetails(
                call_id=event.call_id,
                ani=ani,
                dnis=dnis,
                ivr_selections=event.ivr,
                queue_hint=event.queue_hint,
                language=event.language,
            ),
            parse_warnings=warnings,
        )

    return await accept_contact(
        intake.runtime,
        NewContact(
            tenant_id=tenant_id, channel="phone", external_id=event.call_id, payload=payload
        ),
    )


async def _follow_up(
    intake: Intake, tenant_id: str, event: CtiEvent
) -> CallAnswered | CallAbandoned | CallEnded | VoicemailLeft | CallbackRequested:
    if isinstance(event, CallAnsweredIn):
        return CallAnswered(call_id=event.call_id, at=event.at, agent_ref=event.agent_ref)
    if isinstance(event, CallAbandonedIn):
        return CallAbandoned(call_id=event.call_id, at=event.at)
    if isinstance(event, CallEndedIn):
        return CallEnded(
            call_id=event.call_id, at=event.at, duration_seconds=event.duration_seconds
        )
    if isinstance(event, VoicemailIn):
        return VoicemailLeft(
            call_id=event.call_id,
            at=event.at,
            recording_ref=event.recording_ref,
            duration_seconds=event.duration_seconds,
        )
    assert isinstance(event, CallbackRequestedIn)
    region = await intake.directory.region(tenant_id)
    return CallbackRequested(
        call_id=event.call_id, at=event.at, callback_number=e164(event.callback_number, region)
    )


@dataclass(frozen=True)
class Letter:
    batch_id: str
    item: str
    sender_name: str | None
    postal_address: str | None
    received_date: date | None
    document: bytes


@dataclass(frozen=True)
class Fax:
    fax_id: str
    called_number: str
    calling_number: str | None
    csid: str | None
    pages: int | None
    document: bytes


async def ingest_letter(intake: Intake, letter: Letter, sender: Sender) -> Outcome:
    if sender.tenant_id is None:
        raise InvalidInput("a letter must come from a mailroom channel system", status=403)
    tenant_id = sender.tenant_id
    details = DocumentDetails(
        kind="pdf",
        pages=0,
        batch_id=letter.batch_id,
        item=letter.item,
        received_date=letter.received_date.isoformat() if letter.received_date else None,
    )
    customer = Party(name=letter.sender_name, postal_address=letter.postal_address)
    return await _ingest_document(
        intake,
        tenant_id=tenant_id,
        channel="letter",
        external_id=f"{letter.batch_id}:{letter.item}",
        destination=f"mailroom:{letter.batch_id}",
        customer=customer,
        details=details,
        document=letter.document,
    )


async def ingest_fax(intake: Intake, fax: Fax, sender: Sender) -> Outcome:
    wanted = [e164(fax.called_number, "AU")]
    known = await intake.directory.destinations("fax", wanted)
    tenant_id, called = resolve_tenant(wanted, known, system_tenant=sender.tenant_id)
    region = await intake.directory.region(tenant_id)
    warnings: list[str] = []
    calling = caller_number(fax.calling_number, region, warnings)
    details = DocumentDetails(
        kind="pdf",
        pages=fax.pages or 0,
        fax_id=fax.fax_id,
        csid=fax.csid,
        calling_number=calling,
        called_number=called,
    )
    return await _ingest_document(
        intake,
        tenant_id=tenant_id,
        channel="fax",
        external_id=fax.fax_id,
        destination=called,
        customer=Party(phone=calling),
        details=details,
        document=fax.document,
        warnings=warnings,
    )


async def _ingest_document(
    intake: Intake,
    *,
    tenant_id: str,
    channel: Channel,
    external_id: str,
    destination: str,
    customer: Party,
    details: DocumentDetails,
    document: bytes,
    warnings: list[str] | None = None,
) -> Outcome:
    settings = intake.settings
    warnings = list(warnings or [])
    async with intake.runtime.db.reader() as session:
        seen = await store.find_receipt(
            session, tenant_id=tenant_id, channel=channel, external_id=external_id
        )
    if seen is not None:  # a redelivery: do not read the document again
        return Outcome(seen.contact_id, seen.conversation_id, True)
    ocr = Tesseract(timeout_seconds=settings.intake_ocr_timeout_seconds)
    read = await read_document(
        document,
        max_pages=settings.intake_max_pages,
        ocr=ocr,
        offload=intake.offload,
        max_pixels=settings.intake_max_page_pixels,
    )
    if details.pages and details.pages != read.pages:
        warnings.append(f"{details.pages} pages declared, {read.pages} received")
    flags = []
    if read.ocr_pages and (
        read.ocr_confidence is None or read.ocr_confidence < settings.intake_ocr_min_confidence
    ):
        flags.append("manual_review")
    text = mask_sensitive(fitted(read.text[: settings.intake_max_text_chars], read.warnings))
    sha256 = BlobStore.digest(document)
    BlobStore(settings.var_dir / "blobs").put(sha256, document)
    details = details.model_copy(
        update={
            "kind": read.kind,
            "pages": read.pages,
            "ocr_pages": read.ocr_pages,
            "ocr_confidence": read.ocr_confidence,
        }
    )

    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel=channel,
            conversation_id=conversation_id,
            received_at=utcnow(),
            destination=destination,
            external_id=external_id,
            customer=customer,
            text=text.text,
            attachments=[
                AttachmentRef(
                    filename=None,
                    content_type=_MEDIA_TYPES[read.kind],
                    size=len(document),
                    sha256=sha256,
                )
            ],
            document=details,
            flags=flags,
            parse_warnings=warnings + read.warnings,
            masked=text.kinds,
        )

    return await accept_contact(
        intake.runtime,
        NewContact(tenant_id=tenant_id, channel=channel, external_id=external_id, payload=payload),
    )


_MEDIA_TYPES = {"pdf": "application/pdf", "tiff": "image/tiff", "png": "image/png"}
