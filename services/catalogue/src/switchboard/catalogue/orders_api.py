"""Orders built with the customer on a contact: products and plans from the catalogue, a discount
within the agent's limit (over it, a team leader approves), supply (delivery, or an installation
booked as a field job), a payment option (a card only as the provider's token), a credit check
where needed, and the customer's agreement. An agent sees their own orders; a team leader all."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, model_validator

from switchboard.catalogue import domain, orders, store
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.ports import Applicant
from switchboard.catalogue.store import CatalogueOrder
from switchboard.common.auth import Actor, Who, may, policy
from switchboard.common.catalogue_config import CustomerType
from switchboard.common.envelope import utcnow
from switchboard.common.events.desktop import Site, TimeWindow
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction

LEADERS = ("team_leader",)
SELLERS = ("agent", *LEADERS)
"""Orders are taken by agents and overseen by team leaders (and administrators)."""
router = APIRouter(
    prefix="/v1/orders",
    tags=["orders"],
    dependencies=[policy(read=SELLERS, write=SELLERS)],
)


class CustomerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    type: CustomerType = "residential"
    state: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}$")


class NewOrder(BaseModel):
    contact_id: str = Field(pattern=r"^[0-9a-f-]{36}$")
    customer: CustomerIn


@router.post("", status_code=201)
async def create(body: NewOrder, who: Who, request: Request) -> dict[str, Any]:
    """Start an order on a contact."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        rules = await store.tenant_rules(tx.session, tenant_id=who.tenant_id)
        order = CatalogueOrder(
            order_id=new_id(),
            tenant_id=who.tenant_id,
            contact_id=body.contact_id,
            agent_id=(who.agent_id or "operator"),
            author=who.person,
            author_roles=sorted(who.roles),
            customer=body.customer.model_dump(),
            currency=rules.currency,
        )
        tx.session.add(order)
        return orders.view(order, orders.state(order, {}, rules))


@router.get("")
async def list_orders(
    who: Who, request: Request, contact_id: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """Orders, newest first (an agent's own; a team leader's approvals with
    `status=awaiting_approval`)."""
    mine = None if who.has(*LEADERS) else (who.agent_id or "operator")
    async with Catalogue.of(request).runtime.db.reader() as session:
        rows = await store.orders(
            session, tenant_id=who.tenant_id, contact_id=contact_id, status=status, agent_id=mine
        )
    return {"orders": [r.model_dump(mode="json", exclude={"author_roles"}) for r in rows]}


async def _open(
    tx: Transaction, who: Actor, order_id: str, *, editing: bool = True
) -> tuple[CatalogueOrder, Any]:
    order = await store.order(
        tx.session, tenant_id=who.tenant_id, order_id=order_id, for_update=True
    )
    if order is None or not (order.agent_id == who.agent_id or who.has(*LEADERS)):
        raise HTTPException(404, "no such order")
    if editing and order.status in ("placed", "cancelled"):
        raise HTTPException(409, f"the order is {order.status}")
    return order, await store.tenant_rules(tx.session, tenant_id=who.tenant_id)


async def _settled(
    tx: Transaction, order: CatalogueOrder, rules: Any, *, announce: bool = False
) -> dict[str, Any]:
    """The changed order stored with its new status (told to the centre as `orders.settle`
    decides), as the API shows it."""
    found = orders.state(order, await orders.products_of(tx.session, order), rules)
    await orders.settle(tx, order, found, announce=announce)
    return orders.view(order, found)


@router.get("/{order_id}")
async def get_order(order_id: str, who: Who, request: Request) -> dict[str, Any]:
    """The order, with what it needs and what still blocks it."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id, editing=False)
        found = orders.state(order, await orders.products_of(tx.session, order), rules)
        return orders.view(order, found)


class LineIn(BaseModel):
    product_id: str = Field(max_length=64)
    plan_id: str | None = Field(default=None, max_length=64)
    quantity: int = 1


class Lines(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=20)
    discount_percent: float = Field(default=0.0, ge=0, le=100)
    discount_reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> Lines:
        if self.discount_percent and not (self.discount_reason or "").strip():
            raise ValueError("say why the discount is given")
        return self


@router.put("/{order_id}/lines")
async def set_lines(order_id: str, body: Lines, who: Who, request: Request) -> dict[str, Any]:
    """What the customer chose, priced from the catalogue as it is now (a change of lines or
    discount needs a new approval, and a credit check that covers it)."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        lines = []
        for line in body.lines:
            row = await store.current_product(
                tx.session, tenant_id=who.tenant_id, product_id=line.product_id
            )
            if row is None:
                raise domain.Refused(f"no product {line.product_id!r} in the catalogue")
            reason = domain.ineligible(
                row.product, customer_type=order.customer["type"], state=order.customer.get("state")
            )
            if reason:
                raise domain.Refused(reason)
            lines.append(
                domain.price_line(
                    row.product, row.version, plan_id=line.plan_id, quantity=line.quantity
                )
            )
        order.lines = [vars(x) for x in lines]
        order.discount_percent, order.discount_reason = body.discount_percent, body.discount_reason
        order.total_cents, order.monthly_cents = domain.totals(lines, body.discount_percent)
        order.approval = None
        return await _settled(tx, order, rules)


class Supply(BaseModel):
    method: Literal["none", "delivery", "installation"]
    window: TimeWindow | None = None
    """When: the delivery day, or the window the technician may come in."""
    site: Site | None = None
    """Where an installation is (and a delivery goes)."""

    @model_validator(mode="after")
    def _complete(self) -> Supply:
        if self.method != "none" and self.window is None:
            raise ValueError(f"a {self.method} needs its date window")
        if self.method == "installation" and self.site is None:
            raise ValueError("an installation needs its site")
        if self.window is not None and self.window.start < utcnow():
            raise ValueError("the window has already started")
        return self


@router.put("/{order_id}/supply")
async def set_supply(order_id: str, body: Supply, who: Who, request: Request) -> dict[str, Any]:
    """The supply arrangements agreed with the customer."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        order.supply = body.model_dump(mode="json")
        return await _settled(tx, order, rules)


class Card(BaseModel):
    number: str = Field(max_length=30)
    expiry: str = Field(max_length=7)
    name: str = Field(min_length=1, max_length=200)
    security_code: str | None = Field(default=None, pattern=r"^\d{3,4}$")


class DirectDebit(BaseModel):
    account_name: str = Field(min_length=1, max_length=200)
    bsb: str = Field(pattern=r"^\d{3}-?\d{3}$")
    account_number: str = Field(pattern=r"^\d{4,10}$")


class PaymentChoice(BaseModel):
    method: Literal["card", "direct_debit", "invoice", "payment_plan"]
    card: Card | None = None
    direct_debit: DirectDebit | None = None
    invoice_to: str | None = Field(default=None, max_length=320)
    instalments: Literal[3, 6, 12, 24] | None = None


@router.post("/{order_id}/payment")
async def choose_payment(
    order_id: str, body: PaymentChoice, who: Who, request: Request
) -> dict[str, Any]:
    """How the customer pays. Card details go to the payment provider and only its token, the
    brand and the last four digits are kept; a bank account only as its last three digits."""
    context = Catalogue.of(request)
    kept: dict[str, Any] = {"method": body.method, "agreed_at": utcnow().isoformat()}
    if body.method == "card":
        if body.card is None:
            raise domain.Refused("give the card's details")
        number = domain.card_number(body.card.number)
        valid_to = domain.expiry(body.card.expiry, date.today())
        token = await context.payments.tokenise(
            number=number,
            expiry=valid_to,
            name=body.card.name,
            security_code=body.card.security_code,
        )
        kept |= {
            "token": token.token,
            "brand": token.brand,
            "last4": token.last4,
            "expiry": valid_to,
        }
    elif body.method == "direct_debit":
        if body.direct_debit is None:
            raise domain.Refused("give the account to debit")
        account = body.direct_debit
        kept |= {
            "account_name": account.account_name,
            "bsb": account.bsb,
            "account_last3": account.account_number[-3:],
        }
    elif body.method == "invoice":
        kept["invoice_to"] = body.invoice_to or "the supply address"
    else:
        if body.instalments is None:
            raise domain.Refused("choose how many instalments")
        kept["instalments"] = body.instalments
    async with context.runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        order.payment = kept
        return await _settled(tx, order, rules)


class CreditCheck(BaseModel):
    """Who is applying (sent to the bureau, not kept)."""

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    address: str = Field(min_length=1, max_length=400)


@router.post("/{order_id}/credit-check")
async def credit_check(
    order_id: str, body: CreditCheck, who: Who, request: Request
) -> dict[str, Any]:
    """Ask the bureau about what the order will owe; its decision, reason and reference are
    recorded (on the order and the contact's timeline)."""
    context = Catalogue.of(request)
    async with context.runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        found = orders.state(order, await orders.products_of(tx.session, order), rules)
        if not found.needs_credit_check:
            raise HTTPException(409, "this order needs no credit check")
        amount = found.exposure_cents
    decision = await context.bureau.check(
        Applicant(body.name, body.date_of_birth, body.address),
        amount_cents=amount,
        today=date.today(),
    )
    async with context.runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        order.credit = {
            "decision": decision.decision,
            "reason": decision.reason,
            "reference": decision.reference,
            "amount_cents": amount,
            "checked_at": utcnow().isoformat(),
            "checked_by": who.person,
        }
        return await _settled(tx, order, rules, announce=True)


@router.post("/{order_id}/approve", dependencies=[may(*LEADERS)])
async def approve(order_id: str, who: Who, request: Request) -> dict[str, Any]:
    """A team leader approves the order's discount (not their own, and within their limit)."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        domain.may_approve(
            order.discount_percent,
            rules.discount_limits,
            approver=who.person,
            roles=who.roles,
            author=order.author,
        )
        order.approval = {
            "by": who.person,
            "at": utcnow().isoformat(),
            "discount_percent": order.discount_percent,
        }
        return await _settled(tx, order, rules, announce=True)


class Agreement(BaseModel):
    customer_agreed: Literal[True]
    """The customer said yes to the order as read to them."""
    statement: str = Field(min_length=1, max_length=4000)
    """What was read to the customer (price, term, cooling-off, payment)."""


@router.post("/{order_id}/place")
async def place(order_id: str, body: Agreement, who: Who, request: Request) -> dict[str, Any]:
    """Place the order once nothing blocks it: the customer's agreement is recorded, and an
    installation becomes a field job."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        products = await orders.products_of(tx.session, order)
        found = orders.state(order, products, rules)
        blockers = found.blockers()
        if blockers:
            raise domain.NotReady(blockers)
        order.agreement = {
            "at": utcnow().isoformat(),
            "by": who.person,
            "statement": body.statement,
        }
        order.status, order.placed_at = "placed", utcnow()
        await orders.request_installation(tx, order, products)
        await orders.settle(tx, order, found, announce=True)
        return orders.view(order, found)


@router.post("/{order_id}/cancel")
async def cancel(order_id: str, who: Who, request: Request) -> dict[str, Any]:
    """The customer decided against it before it was placed."""
    async with Catalogue.of(request).runtime.transaction() as tx:
        order, rules = await _open(tx, who, order_id)
        order.status = "cancelled"
        return await _settled(tx, order, rules, announce=True)
