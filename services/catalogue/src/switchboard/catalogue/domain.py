"""The catalogue's rules, pure: pricing an order from the catalogue, who may buy what, the discount
each role may give, what must be settled before an order is placed, which retention offers fit a
customer who wants to leave, and recognising a card number (so it is never kept)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from switchboard.common.catalogue_config import ProductConfig, RetentionOfferConfig
from switchboard.common.compliance.pii import luhn_valid
from switchboard.common.errors import InvalidInput


class Refused(InvalidInput):
    """A request the rules refuse, with the reason for the person who asked (HTTP 422)."""


class NotReady(InvalidInput):
    """An order that cannot take this step yet, with everything still missing (HTTP 409)."""

    def __init__(self, blockers: list[str]) -> None:
        super().__init__("not yet: " + "; ".join(blockers), status=409)
        self.blockers = blockers


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Line:
    product_id: str
    version: int
    name: str
    plan_id: str | None
    quantity: int
    amount_cents: int
    monthly_cents: int
    term_months: int


def price_line(product: ProductConfig, version: int, *, plan_id: str | None, quantity: int) -> Line:
    """One line of an order: the product's up-front price and its plan's monthly charge."""
    if product.retired:
        raise Refused(f"{product.name} is no longer sold")
    if not 1 <= quantity <= 100:
        raise Refused("a quantity is 1 to 100")
    plans = {p.id: p for p in product.plans}
    if plan_id is None and plans:
        raise Refused(f"{product.name}: choose a plan ({', '.join(plans)})")
    if plan_id is not None and plan_id not in plans:
        raise Refused(f"{product.name} has no plan {plan_id!r}")
    plan = plans.get(plan_id or "")
    return Line(
        product.id,
        version,
        product.name,
        plan_id,
        quantity,
        cents(product.price) * quantity,
        cents(plan.monthly) * quantity if plan else 0,
        plan.term_months if plan else 0,
    )


def ineligible(product: ProductConfig, *, customer_type: str, state: str | None) -> str | None:
    """Why this customer may not buy `product`, or None."""
    rules = product.eligibility
    if rules.customer_types and customer_type not in rules.customer_types:
        return f"{product.name} is for {' and '.join(rules.customer_types)} customers"
    if rules.states and (state or "").upper() not in {s.upper() for s in rules.states}:
        return f"{product.name} is sold in {', '.join(rules.states)} only"
    return None


def totals(lines: list[Line], discount_percent: float) -> tuple[int, int]:
    """The order's up-front total and monthly charge, the discount taken off both."""
    keep = Decimal(1) - Decimal(str(discount_percent)) / 100

    def after(amount: int) -> int:
        return int((Decimal(amount) * keep).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    return after(sum(x.amount_cents for x in lines)), after(sum(x.monthly_cents for x in lines))


def credit_exposure(lines: list[Line], total_cents: int, monthly_cents: int) -> int:
    """What the customer owes over the order's contracts: what a credit check must cover."""
    longest = max((x.term_months for x in lines), default=0)
    return total_cents + monthly_cents * max(longest, 1)


def discount_limit(limits: Mapping[str, float], roles: frozenset[str]) -> float:
    """The largest discount any of these roles may give (an administrator's, unless the tenant
    limits it, any)."""
    return max(
        (limits.get(role, 100.0 if role == "administrator" else 0.0) for role in roles), default=0.0
    )


def needs_approval(
    discount_percent: float, limits: Mapping[str, float], author_roles: frozenset[str]
) -> bool:
    return discount_percent > discount_limit(limits, author_roles)


def may_approve(
    discount_percent: float,
    limits: Mapping[str, float],
    *,
    approver: str,
    roles: frozenset[str],
    author: str,
) -> None:
    if approver == author:
        raise Refused("nobody approves their own discount")
    if not roles & {"team_leader", "administrator"}:
        raise Refused("a discount is approved by a team leader")
    if discount_percent > discount_limit(limits, roles):
        raise Refused(f"a {discount_percent:g}% discount is over your limit too")


@dataclass
class OrderState:
    """What placing an order depends on (read from its record)."""

    lines: list[Line]
    ineligible: list[str] = field(default_factory=list)
    needs_installation: bool = False
    needs_delivery: bool = False
    supply: dict[str, Any] | None = None
    payment: dict[str, Any] | None = None
    needs_credit_check: bool = False
    credit: dict[str, Any] | None = None
    exposure_cents: int = 0
    discount_percent: float = 0.0
    discount_needs_approval: bool = False
    approval: dict[str, Any] | None = None

    def blockers(self) -> list[str]:
        """Everything still in the way of placing the order (empty: it may be placed)."""
        found: list[str] = []
        if not self.lines:
            found.append("add a product")
        found.extend(self.ineligible)
        method = (self.supply or {}).get("method")
        if self.needs_installation and method != "installation":
            found.append("book the installation (a date window and the site)")
        elif self.needs_delivery and method not in ("delivery", "installation"):
            found.append("agree a delivery date")
        if self.payment is None:
            found.append("choose how the customer pays")
        if self.needs_credit_check:
            credit = self.credit or {}
            if credit.get("decision") is None:
                found.append("run a credit check")
            elif credit["decision"] != "approved":
                found.append(f"the credit check was {credit['decision']}: {credit.get('reason')}")
            elif credit.get("amount_cents", 0) < self.exposure_cents:
                found.append("the order grew after its credit check: run it again")
        if self.discount_needs_approval and self.approval is None:
            found.append(f"a team leader approves the {self.discount_percent:g}% discount")
        return found


# -- retention -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaving:
    """What the agent knows of a customer who wants to leave (from the billing system)."""

    reason: str
    tenure_months: int
    monthly_value: Decimal
    contract_ends: date | None


def fitting_offers(
    offers: list[RetentionOfferConfig], leaving: Leaving, today: date
) -> list[RetentionOfferConfig]:
    """The retention offers whose every condition the customer meets, best fit first (the more
    conditions an offer sets, the more it was meant for this customer)."""

    def fits(offer: RetentionOfferConfig) -> bool:
        if offer.reasons and leaving.reason not in offer.reasons:
            return False
        if leaving.tenure_months < offer.min_tenure_months:
            return False
        if leaving.monthly_value < offer.min_monthly_value:
            return False
        if offer.contract_ends_within_days is not None:
            ends = leaving.contract_ends
            if ends is None or not 0 <= (ends - today).days <= offer.contract_ends_within_days:
                return False
        return True

    def specificity(offer: RetentionOfferConfig) -> int:
        return (
            bool(offer.reasons)
            + bool(offer.min_tenure_months)
            + bool(offer.min_monthly_value)
            + (offer.contract_ends_within_days is not None)
        )

    return sorted((o for o in offers if fits(o)), key=specificity, reverse=True)


# -- cards ---------------------------------------------------------------------------------------

CARD_DIGITS = re.compile(r"^\d{12,19}$")
BRANDS = (
    (re.compile(r"^4"), "visa"),
    (re.compile(r"^(5[1-5]|2[2-7])"), "mastercard"),
    (re.compile(r"^3[47]"), "amex"),
    (re.compile(r"^(36|38|30[0-5])"), "diners"),
)


def card_number(typed: str) -> str:
    """The digits of a card number as typed (spaces and dashes allowed), or Refused."""
    digits = re.sub(r"[ -]", "", typed)
    if not CARD_DIGITS.match(digits) or not luhn_valid(digits):
        raise Refused("that is not a valid card number")
    return digits


def card_brand(digits: str) -> str:
    return next((brand for pattern, brand in BRANDS if pattern.match(digits)), "card")


def expiry(typed: str, today: date) -> str:
    """`MM/YY` of a card that has not expired, or Refused."""
    match = re.fullmatch(r"(0[1-9]|1[0-2])\s*/\s*(\d{2})", typed.strip())
    if match is None:
        raise Refused("give the expiry as MM/YY")
    month, year = int(match[1]), 2000 + int(match[2])
    if (year, month) < (today.year, today.month):
        raise Refused("that card has expired")
    return f"{month:02d}/{year % 100:02d}"
