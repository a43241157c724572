"""The event envelope every message on Kafka carries (DESIGN.md, "Events").

`Envelope[P]` is generic over the payload model, so a handler annotated with
`Envelope[ContactReceived]` gets a validated payload, and an unknown payload field or envelope
field sent by a newer producer is kept rather than dropped (forward compatibility).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from switchboard.common.ids import new_id


class Payload(BaseModel):
    """Base of every event payload: unknown fields are kept; a breaking change is a new version."""

    model_config = ConfigDict(extra="allow")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


P = TypeVar("P", bound=Payload)
Q = TypeVar("Q", bound=Payload)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored moment as UTC: SQLite gives datetimes back without their zone, and they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Envelope(BaseModel, Generic[P]):
    model_config = ConfigDict(extra="allow")

    event_id: str = Field(default_factory=new_id)
    event_type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    tenant_id: str
    aggregate_id: str = Field(description="The contact, agent or job this event is about.")
    contact_id: str | None = None
    correlation_id: str
    causation_id: str | None = None
    payload: P

    @property
    def about_contact_id(self) -> str:
        """The contact this event is about: `contact_id` where it is set (the aggregate of an
        offer is its agent, of a job its job), else the aggregate (a contact's own events)."""
        return self.contact_id or self.aggregate_id

    @classmethod
    def first(
        cls,
        payload: Q,
        *,
        tenant_id: str,
        aggregate_id: str,
        contact_id: str | None = None,
        occurred_at: datetime | None = None,
        correlation_id: str | None = None,
    ) -> Envelope[Q]:
        """An event that starts from outside (a channel system's request). It correlates to itself
        unless `correlation_id` ties it to an earlier chain (a call's later events to the call)."""
        event_id = new_id()
        return _typed_for(payload)(
            event_id=event_id,
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or utcnow(),
            tenant_id=tenant_id,
            aggregate_id=aggregate_id,
            contact_id=contact_id,
            correlation_id=correlation_id or event_id,
            causation_id=None,
            payload=payload,
        )

    @classmethod
    def about_contact(cls, payload: Q, *, tenant_id: str, contact_id: str) -> Envelope[Q]:
        """An event about a contact, started by someone's request to a service that does not keep
        the contact's chain (keyed by the contact)."""
        return cls.first(
            payload, tenant_id=tenant_id, aggregate_id=contact_id, contact_id=contact_id
        )

    def follow(
        self,
        payload: Q,
        *,
        aggregate_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope[Q]:
        """An event caused by this one: same tenant, contact and correlation."""
        return _typed_for(payload)(
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or utcnow(),
            tenant_id=self.tenant_id,
            aggregate_id=aggregate_id or self.aggregate_id,
            contact_id=self.contact_id,
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
            payload=payload,
        )

    @classmethod
    def resume(
        cls,
        payload: Q,
        *,
        tenant_id: str,
        aggregate_id: str,
        contact_id: str | None,
        correlation_id: str,
        causation_id: str,
    ) -> Envelope[Q]:
        """An event caused by an earlier one this service kept (a decision taken later, by a timer
        or when an agent became free), in that event's chain."""
        return _typed_for(payload)(
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=utcnow(),
            tenant_id=tenant_id,
            aggregate_id=aggregate_id,
            contact_id=contact_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=payload,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def _typed_for(payload: Q) -> type[Envelope[Q]]:
    """`Envelope[ThatPayload]`, so the payload is validated and serialised as its own type."""
    return cast("type[Envelope[Q]]", cast(Any, Envelope)[type(payload)])


def peek(raw: bytes) -> dict[str, Any]:
    """The envelope's header fields without validating the payload (for DLQ records and logs)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k != "payload" and isinstance(v, str | int)}
