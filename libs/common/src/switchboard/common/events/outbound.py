"""Outbound contact and the Do Not Call gate: requested by agents, campaigns or dispatch; answered by
the gate with cleared or blocked, and the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload


class OutboundRequested(Payload):
    event_type = "outbound.requested"

    request_id: str = Field(min_length=1, max_length=64)
    channel: Literal["call", "fax", "sms"]
    number: str = Field(max_length=40)
    purpose: str = Field(
        max_length=32,
        description="marketing, or a service purpose: appointment, fault_verification, payment, "
        "product_recall, solicited, service",
    )
    requested_by: str = Field(max_length=200)
    not_before: datetime | None = Field(default=None, description="when the contact would be made")
    time_zone: str | None = Field(default=None, description="the called person's, where known")


class OutboundCleared(Payload):
    event_type = "outbound.cleared"

    request_id: str
    channel: str
    number: str
    reason: str


class OutboundBlocked(Payload):
    event_type = "outbound.blocked"

    request_id: str
    channel: str
    number: str
    reason: str
