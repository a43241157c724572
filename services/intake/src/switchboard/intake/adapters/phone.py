"""Telephony (CTI) events as JSON → validated call events; numbers to E.164.

    {"event": "offered", "call_id": "c-1", "at": "...", "ani": "0412 345 678", "dnis": "+61255501000",
     "ivr": ["2", "1"], "queue_hint": "faults", "language": "en", "caller_name": null}
    {"event": "answered" | "abandoned" | "ended" | "voicemail" | "callback_requested", "call_id": ...}

One call is one contact: "offered" creates it; every later event attaches to it.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from switchboard.common.errors import InvalidInput
from switchboard.common.phone import e164
from switchboard.intake.adapters.limits import check_json_depth

WITHHELD = {"", "anonymous", "private", "withheld", "unavailable", "restricted", "unknown"}


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    call_id: str = Field(min_length=1, max_length=200)
    at: AwareDatetime


class CallOfferedIn(_Event):
    event: Literal["offered"]
    dnis: str = Field(min_length=1, max_length=40)
    ani: str | None = Field(default=None, max_length=40)
    ivr: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=20)
    queue_hint: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)
    caller_name: str | None = Field(default=None, max_length=200)


class CallAnsweredIn(_Event):
    event: Literal["answered"]
    agent_ref: str | None = Field(default=None, max_length=200)


class CallAbandonedIn(_Event):
    event: Literal["abandoned"]


class CallEndedIn(_Event):
    event: Literal["ended"]
    duration_seconds: float | None = Field(default=None, ge=0, le=86_400)


class VoicemailIn(_Event):
    event: Literal["voicemail"]
    recording_ref: str = Field(min_length=1, max_length=500)
    duration_seconds: float = Field(ge=0, le=86_400)


class CallbackRequestedIn(_Event):
    event: Literal["callback_requested"]
    callback_number: str = Field(min_length=1, max_length=40)


CtiEvent = Annotated[
    CallOfferedIn
    | CallAnsweredIn
    | CallAbandonedIn
    | CallEndedIn
    | VoicemailIn
    | CallbackRequestedIn,
    Field(discriminator="event"),
]
_ADAPTER: TypeAdapter[CtiEvent] = TypeAdapter(CtiEvent)


def parse_cti(raw: bytes, *, max_depth: int = 8) -> CtiEvent:
    if not raw.strip():
        raise InvalidInput("empty request", status=400)
    check_json_depth(raw, max_depth)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body is not JSON", status=400) from None
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors()[:5]
        )
        raise InvalidInput(f"invalid CTI event: {problems}") from None


def caller_number(ani: str | None, region: str, warnings: list[str]) -> str | None:
    """The caller's number in E.164, or None (with a warning) when withheld or unusable."""
    if ani is None or ani.strip().lower() in WITHHELD:
        warnings.append("caller number withheld")
        return None
    try:
        return e164(ani, region)
    except InvalidInput:
        warnings.append("caller number could not be read as a phone number")
        return None
