"""Events intake produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from switchboard.common.envelope import Payload

Channel = Literal["email", "phone", "letter", "fax", "chat", "sms", "walk_in"]


class Party(BaseModel):
    """Who the contact is from, as the channel identified them (only the fields the channel gives)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_address: str | None = None


class AttachmentRef(BaseModel):
    """An attachment by reference: the event never carries the bytes."""

    model_config = ConfigDict(extra="allow")

    filename: str | None
    content_type: str
    size: int
    sha256: str


class EmailDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    message_id: str
    in_reply_to: str | None = None
    references: list[str] = []
    to: list[str] = []
    cc: list[str] = []


class PhoneDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    call_id: str
    ani: str | None = None
    dnis: str
    ivr_selections: list[str] = []
    queue_hint: str | None = None
    language: str | None = None


class DocumentDetails(BaseModel):
    """A letter or fax: where it came from and how its text was read."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["pdf", "tiff", "png"]
    pages: int
    ocr_pages: int = 0
    ocr_confidence: float | None = None
    batch_id: str | None = None
    item: str | None = None
    fax_id: str | None = None
    csid: str | None = None
    calling_number: str | None = None
    called_number: str | None = None
    received_date: str | None = None


class ChatDetails(BaseModel):
    """A web chat: the customer's session (their browser resumes it after a reconnect)."""

    model_config = ConfigDict(extra="allow")

    session_id: str
    page: str | None = None


class SmsDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    message_id: str
    sender: str
    to: str


class WalkInDetails(BaseModel):
    """A face-to-face contact logged at the counter by the agent serving the customer."""

    model_config = ConfigDict(extra="allow")

    walk_in_id: str
    agent_id: str
    started_at: datetime


class ContactReceived(Payload):
    """A contact arrived on a channel and was accepted by intake."""

    event_type = "contact.received"

    channel: Channel
    conversation_id: str
    conversation_token: str | None = None
    """Put in a reply's subject as `[token]`, it brings the customer's answer back to this
    conversation."""
    received_at: datetime
    destination: str
    external_id: str
    customer: Party
    subject: str | None = None
    text: str = ""
    attachments: list[AttachmentRef] = []
    email: EmailDetails | None = None
    phone: PhoneDetails | None = None
    document: DocumentDetails | None = None
    chat: ChatDetails | None = None
    sms: SmsDetails | None = None
    walk_in: WalkInDetails | None = None
    flags: list[str] = []
    parse_warnings: list[str] = []
    masked: list[str] = []
    """Kinds of sensitive number masked in subject and text (card, tfn, medicare)."""


class CallAnswered(Payload):
    event_type = "call.answered"

    call_id: str
    at: datetime
    agent_ref: str | None = None


class CallAbandoned(Payload):
    """The caller hung up before an agent answered."""

    event_type = "call.abandoned"

    call_id: str
    at: datetime


class CallEnded(Payload):
    event_type = "call.ended"

    call_id: str
    at: datetime
    duration_seconds: float | None = None


class VoicemailLeft(Payload):
    event_type = "call.voicemail_left"

    call_id: str
    at: datetime
    recording_ref: str
    duration_seconds: float


class CallbackRequested(Payload):
    event_type = "call.callback_requested"

    call_id: str
    at: datetime
    callback_number: str
