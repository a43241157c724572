"""A tenant's catalogue in the centre configuration (and the shape of a catalogue import): its
products and services with their prices, plans and rules, its knowledge (articles, campaign briefs,
scripts per queue), its retention offers and each role's discount limit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Money = Decimal
CustomerType = Literal["residential", "business"]
ScriptStep = Literal[
    "greeting", "needs", "features_and_benefits", "pricing", "regulatory", "closing"
]


class PlanConfig(BaseModel):
    """A price plan: so much a month, on a contract of `term_months` (0: none)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)
    monthly: Money = Field(ge=0, max_digits=10, decimal_places=2)
    term_months: int = Field(default=0, ge=0, le=120)


class InstallationConfig(BaseModel):
    """A product that needs someone on site: the field job its order asks dispatch for."""

    model_config = ConfigDict(extra="forbid")

    work_type: str = Field(min_length=1, max_length=64)
    skills: list[str] = []
    estimated_minutes: int = Field(default=120, gt=0, le=24 * 60)


class EligibilityConfig(BaseModel):
    """Who may buy it (empty: anyone)."""

    model_config = ConfigDict(extra="forbid")

    customer_types: list[CustomerType] = []
    states: list[str] = []
    """The states or territories of the supply address it is sold in."""


class ProductConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["product", "service"] = "product"
    description: str = Field(default="", max_length=4000)
    features: list[str] = Field(default=[], max_length=30)
    benefits: list[str] = Field(default=[], max_length=30)
    price: Money = Field(default=Decimal(0), ge=0, max_digits=10, decimal_places=2)
    """What it costs up front (a device, a connection fee)."""
    plans: list[PlanConfig] = Field(default=[], max_length=20)
    queues: list[str] = []
    """The queues whose agents sell it (empty: every queue)."""
    skills: list[str] = []
    eligibility: EligibilityConfig = EligibilityConfig()
    credit_check: bool = False
    """An order of it waits for a credit check that passes."""
    installation: InstallationConfig | None = None
    delivery: bool = False
    """It is posted to the customer (a delivery date is agreed)."""
    retired: bool = False
    """No longer sold (kept, with its versions, for the orders that name it)."""

    @model_validator(mode="after")
    def _unique_plans(self) -> ProductConfig:
        if len({p.id for p in self.plans}) != len(self.plans):
            raise ValueError(f"product {self.id}: plan ids must be unique")
        return self


class ScriptStepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: ScriptStep
    text: str = Field(min_length=1, max_length=4000)


class ArticleConfig(BaseModel):
    """Knowledge for agents: an article, a campaign brief (current between its dates) or a queue's
    script (its contact-flow steps)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID)
    kind: Literal["article", "brief", "script"] = "article"
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=200_000)
    queues: list[str] = []
    tags: list[str] = Field(default=[], max_length=30)
    starts_on: date | None = None
    ends_on: date | None = None
    steps: list[ScriptStepConfig] = Field(default=[], max_length=30)

    @model_validator(mode="after")
    def _shape(self) -> ArticleConfig:
        if self.kind == "script" and not self.steps:
            raise ValueError(f"script {self.id}: give its steps")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError(f"{self.id}: ends_on is before starts_on")
        return self


class RetentionOfferConfig(BaseModel):
    """An offer suggested to a customer who wants to leave, when they match every condition."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    reasons: list[str] = []
    """The reasons for leaving it answers (empty: any)."""
    min_tenure_months: int = Field(default=0, ge=0)
    min_monthly_value: Money = Field(default=Decimal(0), ge=0)
    contract_ends_within_days: int | None = Field(default=None, ge=0)
    """Only for a customer whose contract ends within this many days (re-contracting)."""


DISCOUNT_ROLES = frozenset({"agent", "team_leader", "administrator"})
DEFAULT_REASONS = ["price", "service", "moving", "competitor", "other"]


class CatalogueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="AUD", pattern=r"^[A-Z]{3}$")
    products: list[ProductConfig] = []
    articles: list[ArticleConfig] = []
    retention_offers: list[RetentionOfferConfig] = []
    leaving_reasons: list[str] = Field(default=DEFAULT_REASONS, min_length=1)
    cancellation_queues: list[str] = []
    """A contact in one of these queues is a customer asking to leave: retention offers are
    suggested."""
    discount_limits: dict[str, float] = {
        "agent": 10.0,
        "team_leader": 30.0,
        "administrator": 100.0,
    }
    """The largest discount (% of the order) each role may give; over the agent's, a team leader
    approves."""

    @model_validator(mode="after")
    def _unique(self) -> CatalogueConfig:
        for what, ids in (
            ("product", [p.id for p in self.products]),
            ("article", [a.id for a in self.articles]),
            ("retention offer", [o.id for o in self.retention_offers]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{what} ids must be unique")
        if not set(self.discount_limits) <= DISCOUNT_ROLES:
            raise ValueError(f"discount limits are for the roles {sorted(DISCOUNT_ROLES)}")
        for offer in self.retention_offers:
            unknown = set(offer.reasons) - set(self.leaving_reasons)
            if unknown:
                raise ValueError(f"retention offer {offer.id}: unknown reasons {sorted(unknown)}")
        return self

    def queues_named(self) -> set[str]:
        named = {q for product in self.products for q in product.queues}
        named |= {q for article in self.articles for q in article.queues}
        return named | set(self.cancellation_queues)
