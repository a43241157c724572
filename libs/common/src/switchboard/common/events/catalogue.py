"""Events of provision and product knowledge: an order's progress (credit checked, waiting for a
team leader's approval, placed, cancelled), an article an agent used on a contact, and a retention
offer made to a customer who wants to leave, with their answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from switchboard.common.envelope import Payload

OrderStatus = Literal[
    "draft", "awaiting_credit_check", "credit_declined", "awaiting_approval", "placed", "cancelled"
]


class OrderLineSummary(BaseModel):
    product_id: str
    version: int
    name: str = Field(max_length=200)
    plan_id: str | None = None
    quantity: int
    amount_cents: int
    """What the line costs up front, before the order's discount."""
    monthly_cents: int


class OrderChanged(Payload):
    """An order built with the customer on a contact, at each step that matters: its credit
    decision, a discount waiting for a team leader, placed (agreed, with its supply and payment
    arranged) or cancelled. Keyed by the order; the envelope names the contact."""

    event_type = "order.status"

    order_id: str
    agent_id: str
    status: OrderStatus
    lines: list[OrderLineSummary] = Field(max_length=50)
    discount_percent: float
    total_cents: int
    monthly_cents: int
    currency: str = Field(max_length=3)
    payment_method: str | None = None
    supply_method: str | None = None
    job_id: str | None = None
    credit_decision: Literal["approved", "declined", "refer"] | None = None
    credit_reason: str | None = Field(default=None, max_length=500)
    approved_by: str | None = Field(default=None, max_length=200)


class ArticleUsed(Payload):
    """An agent used a knowledge article (or script, or campaign brief) on a contact."""

    event_type = "knowledge.used"

    article_id: str
    version: int
    title: str = Field(max_length=300)
    agent_id: str


class RetentionOffered(Payload):
    """A retention offer made to a customer who asked to leave, and their answer."""

    event_type = "retention.offered"

    offer_id: str
    name: str = Field(max_length=200)
    agent_id: str
    reason: str = Field(max_length=64)
    """Why the customer wants to leave (the tenant's reasons: price, service, moving, ...)."""
    answer: Literal["accepted", "declined"]
