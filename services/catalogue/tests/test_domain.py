"""The catalogue's rules without a database: pricing and discounts, eligibility, who approves,
what blocks an order, retention offers that fit, card numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from switchboard.catalogue import domain
from switchboard.common.catalogue_config import ProductConfig, RetentionOfferConfig

BATTERY = ProductConfig.model_validate(
    {
        "id": "battery",
        "name": "Battery",
        "price": "990.00",
        "credit_check": True,
        "plans": [{"id": "b24", "name": "24 months", "monthly": "349.00", "term_months": 24}],
        "eligibility": {"customer_types": ["residential"], "states": ["NSW", "ACT"]},
    }
)
LIMITS = {"agent": 10.0, "team_leader": 30.0}


def test_lines_are_priced_from_the_catalogue_and_the_discount_comes_off_both() -> None:
    line = domain.price_line(BATTERY, 3, plan_id="b24", quantity=2)
    assert (line.version, line.amount_cents, line.monthly_cents, line.term_months) == (
        3,
        198000,
        69800,
        24,
    )
    assert domain.totals([line], 12.5) == (173250, 61075)
    assert domain.credit_exposure([line], 173250, 61075) == 173250 + 61075 * 24
    for plan, quantity, reason in (
        (None, 1, "choose a plan"),
        ("b12", 1, "no plan 'b12'"),
        ("b24", 0, "quantity is 1 to 100"),
    ):
        with pytest.raises(domain.Refused, match=reason):
            domain.price_line(BATTERY, 1, plan_id=plan, quantity=quantity)
    retired = BATTERY.model_copy(update={"retired": True})
    with pytest.raises(domain.Refused, match="no longer sold"):
        domain.price_line(retired, 1, plan_id="b24", quantity=1)


def test_eligibility_by_customer_type_and_state() -> None:
    assert domain.ineligible(BATTERY, customer_type="residential", state="nsw") is None
    assert "residential" in (
        domain.ineligible(BATTERY, customer_type="business", state="NSW") or ""
    )
    assert "NSW, ACT only" in (
        domain.ineligible(BATTERY, customer_type="residential", state="VIC") or ""
    )
    assert domain.ineligible(BATTERY, customer_type="residential", state=None) is not None


def test_discounts_within_each_roles_limit_and_never_self_approved() -> None:
    assert not domain.needs_approval(10, LIMITS, frozenset({"agent"}))
    assert domain.needs_approval(10.5, LIMITS, frozenset({"agent"}))
    assert not domain.needs_approval(25, LIMITS, frozenset({"agent", "team_leader"}))
    assert domain.discount_limit(LIMITS, frozenset({"administrator"})) == 100
    domain.may_approve(25, LIMITS, approver="tl", roles=frozenset({"team_leader"}), author="amy")
    for approver, roles, author, reason in (
        ("amy", frozenset({"team_leader"}), "amy", "their own"),
        ("bob", frozenset({"agent"}), "amy", "by a team leader"),
        ("tl", frozenset({"team_leader"}), "amy", "over your limit"),
    ):
        with pytest.raises(domain.Refused, match=reason):
            domain.may_approve(40, LIMITS, approver=approver, roles=roles, author=author)


def test_what_blocks_an_order() -> None:
    line = domain.price_line(BATTERY, 1, plan_id="b24", quantity=1)
    state = domain.OrderState(
        lines=[line],
        needs_installation=True,
        needs_credit_check=True,
        exposure_cents=900_000,
        discount_percent=15,
        discount_needs_approval=True,
    )
    assert state.blockers() == [
        "book the installation (a date window and the site)",
        "choose how the customer pays",
        "run a credit check",
        "a team leader approves the 15% discount",
    ]
    state.supply = {"method": "installation"}
    state.payment = {"method": "invoice"}
    state.approval = {"by": "tl"}
    state.credit = {"decision": "approved", "amount_cents": 800_000}
    assert state.blockers() == ["the order grew after its credit check: run it again"]
    state.credit = {"decision": "declined", "reason": "too much", "amount_cents": 900_000}
    assert state.blockers() == ["the credit check was declined: too much"]
    state.credit = {"decision": "approved", "amount_cents": 900_000}
    assert state.blockers() == []
    assert domain.OrderState(lines=[]).blockers() == [
        "add a product",
        "choose how the customer pays",
    ]


def test_retention_offers_that_fit_the_most_specific_first() -> None:
    offers = [
        RetentionOfferConfig.model_validate(o)
        for o in (
            {"id": "any", "name": "Anyone"},
            {"id": "loyal", "name": "Loyal", "reasons": ["price"], "min_tenure_months": 24},
            {"id": "big", "name": "Big spender", "min_monthly_value": "100"},
            {"id": "ending", "name": "Re-contract", "contract_ends_within_days": 60},
        )
    ]
    today = date(2026, 12, 3)

    def fit(reason: str, tenure: int, value: str, ends: date | None) -> list[str]:
        leaving = domain.Leaving(reason, tenure, Decimal(value), ends)
        return [o.id for o in domain.fitting_offers(offers, leaving, today)]

    assert fit("price", 36, "50", None) == ["loyal", "any"]
    assert fit("price", 12, "150", today + timedelta(days=30)) == ["big", "ending", "any"]
    assert fit("service", 36, "50", today - timedelta(days=1)) == ["any"]  # ended: not "ending"


def test_card_numbers_brands_and_expiry() -> None:
    assert domain.card_number("4111 1111 1111 1111") == "4111111111111111"
    assert domain.card_number("5555-5555-5555-4444") == "5555555555554444"
    assert [
        domain.card_brand(n)
        for n in ("4111111111111111", "5555555555554444", "378282246310005", "6011111111111117")
    ] == ["visa", "mastercard", "amex", "card"]
    for typed in ("4111 1111 1111 1112", "1234", "4111a11111111111"):
        with pytest.raises(domain.Refused, match="not a valid card number"):
            domain.card_number(typed)
    assert domain.expiry("03 / 30", date(2026, 12, 3)) == "03/30"
    with pytest.raises(domain.Refused, match="expired"):
        domain.expiry("11/26", date(2026, 12, 3))
    with pytest.raises(domain.Refused, match="MM/YY"):
        domain.expiry("2030-12", date(2026, 12, 3))
