"""Events about the record itself (recording produces and applies them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchboard.common.envelope import Payload


class CustomerCorrected(Payload):
    """A correction of a customer's personal information (Privacy Act, APP 13); the old value is
    kept in recording's correction history. Every service holding a copy of the customer's
    contacts applies it to them."""

    event_type = "customer.corrected"

    field: Literal["name", "email", "phone", "postal_address"]
    old_value: str | None = Field(default=None, max_length=400)
    """The identity being corrected (for email, phone, address); the name needs none."""
    new_value: str = Field(min_length=1, max_length=400)
    reason: str = Field(min_length=1, max_length=500)
    actor: str = Field(max_length=200)
    contact_ids: list[str] = Field(default_factory=list, max_length=2000)
    """The customer's contacts, whose copies in every service take the correction."""
    conversation_ids: list[str] = Field(default_factory=list, max_length=2000)


class SurveyResponded(Payload):
    """A customer's answer to the post-contact survey: satisfaction (CSAT, 1-5) and likelihood to
    recommend (NPS, 0-10), either or both."""

    event_type = "survey.responded"

    csat: int | None = Field(default=None, ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)
    source: str = Field(max_length=200)
