"""Privacy requests that every service holding customers' data applies to its own copies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload


class ErasureRequested(Payload):
    """Erase what identifies a customer from these contacts (an erasure request, Privacy Act
    APP 11.2, or the retention period ending). It carries no personal information: the contacts
    and conversations by id, the customer's identities as `identity_digest`s (to find copies kept by address or
    number, such as a field job or an email thread) and the documents by their SHA-256. What the
    figures need (times, queues, agents, outcomes) stays."""

    event_type = "customer.erasure_requested"

    request_id: str = Field(max_length=36)
    kind: Literal["erasure", "retention"]
    customer_id: str | None = Field(default=None, max_length=36)
    contact_ids: list[str] = Field(default_factory=list, max_length=2000)
    conversation_ids: list[str] = Field(default_factory=list, max_length=2000)
    identities: list[str] = Field(default_factory=list, max_length=200)
    documents: list[str] = Field(default_factory=list, max_length=2000)
    requested_by: str = Field(max_length=200)


class ErasureApplied(Payload):
    """One service has erased its copies for a request: how many of each kind of thing."""

    event_type = "customer.erasure_applied"

    request_id: str = Field(max_length=36)
    service: str = Field(max_length=32)
    erased: dict[str, int] = Field(default_factory=dict)
