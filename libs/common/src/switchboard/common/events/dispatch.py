"""Events the dispatch service produces: a field job's every status change (one topic, keyed by the
job, so its changes stay in order for every reader) and the communications with field staff."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload

JobStatus = Literal[
    "created", "despatched", "confirmed", "en_route", "on_site", "completed", "cancelled", "failed"
]
Medium = Literal["email", "sms", "message_service", "phone", "fax"]


class JobStatusChanged(Payload):
    """A field job moved from `previous` to `status` (the job's first event has no `previous`).

    A re-despatch (confirmation timed out, technician declined, pre-empted by an emergency,
    re-planned) is a move back to `created` with the reason, then `despatched` again."""

    event_type = "job.status"

    job_id: str
    status: JobStatus
    previous: JobStatus | None = None
    work_type: str = Field(max_length=64)
    priority: str = Field(max_length=16)
    technician_id: str | None = None
    reason: str = Field(default="", max_length=500)
    automatic: bool = False
    """Despatched by the automatic rule, not by a dispatcher."""
    medium: Medium | None = None
    travel_minutes: float | None = None
    eta: datetime | None = None
    requested_by: str | None = None
    """The agent who asked for the job (told how it goes)."""
    needs_dispatcher: bool = False
    """No technician could be chosen automatically: a dispatcher must despatch it."""
    displaced_by: str | None = None
    """The emergency job that pre-empted this one."""


class FieldMessageChanged(Payload):
    """A communication to field staff was created, approved, rejected or sent."""

    event_type = "fieldcomm.status"

    message_id: str
    kind: str
    status: Literal["pending_approval", "approved", "rejected", "sent"]
    recipients: list[str] = []
    actor: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=500)


class FieldResponse(Payload):
    """A recipient answered a communication (acknowledged, declined, an ETA), or was chased."""

    event_type = "fieldcomm.response"

    message_id: str
    technician_id: str
    response: Literal["acknowledged", "declined", "eta", "chased"]
    eta_minutes: int | None = None
