"""An order's use cases between the API and the rules: reading its products as priced, working
out its status and what still blocks it, and telling the centre (`order.status`; a field job for
an installation)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from switchboard.catalogue import domain, store
from switchboard.catalogue.store import CatalogueOrder
from switchboard.common.catalogue_config import CatalogueConfig, InstallationConfig, ProductConfig
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.catalogue import OrderChanged, OrderLineSummary
from switchboard.common.events.desktop import Customer, JobRequested, Payment, Site, TimeWindow
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction

PAYMENT_FOR_FIELD = {
    "card": "card",
    "direct_debit": "direct_debit",
    "invoice": "invoice",
    "payment_plan": "account",
}
"""How the technician's job sheet names each payment option."""


def lines_of(order: CatalogueOrder) -> list[domain.Line]:
    return [domain.Line(**line) for line in order.lines]


async def products_of(session: Any, order: CatalogueOrder) -> dict[str, ProductConfig]:
    """The products of the order's lines, as the versions they were priced on."""
    keys = [(x["product_id"], x["version"]) for x in order.lines]
    if not keys:
        return {}
    rows = await store.priced_versions(session, tenant_id=order.tenant_id, keys=keys)
    return {row.product_id: row.product for row in rows}


def state(
    order: CatalogueOrder, products: dict[str, ProductConfig], rules: CatalogueConfig
) -> domain.OrderState:
    lines = lines_of(order)
    customer = order.customer
    found = domain.OrderState(
        lines=lines,
        ineligible=[
            reason
            for p in products.values()
            if (
                reason := domain.ineligible(
                    p,
                    customer_type=customer.get("type", "residential"),
                    state=customer.get("state"),
                )
            )
        ],
        needs_installation=any(p.installation for p in products.values()),
        needs_delivery=any(p.delivery for p in products.values()),
        supply=order.supply,
        payment=order.payment,
        credit=order.credit,
        exposure_cents=domain.credit_exposure(lines, order.total_cents, order.monthly_cents),
        discount_percent=order.discount_percent,
        discount_needs_approval=domain.needs_approval(
            order.discount_percent, rules.discount_limits, frozenset(order.author_roles)
        ),
        approval=order.approval,
    )
    found.needs_credit_check = any(p.credit_check for p in products.values()) or (
        (order.payment or {}).get("method") == "payment_plan"
    )
    return found


def status_of(order: CatalogueOrder, found: domain.OrderState) -> str:
    """Where an open order stands: what it waits for first."""
    if order.status in ("placed", "cancelled"):
        return order.status
    if found.discount_needs_approval and found.approval is None:
        return "awaiting_approval"
    decision = (found.credit or {}).get("decision")
    if found.needs_credit_check and decision not in (None, "approved"):
        return "credit_declined"
    if found.needs_credit_check and decision is None:
        return "awaiting_credit_check"
    return "draft"


def view(order: CatalogueOrder, found: domain.OrderState) -> dict[str, Any]:
    shown = order.model_dump(mode="json", exclude={"author_roles"})
    return {
        **shown,
        "blockers": [] if order.status in ("placed", "cancelled") else found.blockers(),
        "credit_exposure_cents": found.exposure_cents,
        "needs": {
            "installation": found.needs_installation,
            "delivery": found.needs_delivery,
            "credit_check": found.needs_credit_check,
            "approval": found.discount_needs_approval,
        },
    }


async def settle(
    tx: Transaction, order: CatalogueOrder, found: domain.OrderState, *, announce: bool = False
) -> None:
    """Store the order's new status; tell the centre when it changed (or `announce`)."""
    status = status_of(order, found)
    changed = status != order.status
    order.status, order.updated_at = status, utcnow()
    tx.session.add(order)
    if changed or announce:
        await tx.emit(_event(order))


def _event(order: CatalogueOrder) -> Envelope[OrderChanged]:
    credit, approval = order.credit or {}, order.approval or {}
    payload = OrderChanged(
        order_id=order.order_id,
        agent_id=order.agent_id,
        status=order.status,
        lines=[
            OrderLineSummary(**{k: v for k, v in x.items() if k != "term_months"})
            for x in order.lines
        ],
        discount_percent=order.discount_percent,
        total_cents=order.total_cents,
        monthly_cents=order.monthly_cents,
        currency=order.currency,
        payment_method=(order.payment or {}).get("method"),
        supply_method=(order.supply or {}).get("method"),
        job_id=order.job_id,
        credit_decision=credit.get("decision"),
        credit_reason=credit.get("reason"),
        approved_by=approval.get("by"),
    )
    return Envelope.first(
        payload, tenant_id=order.tenant_id, aggregate_id=order.order_id, contact_id=order.contact_id
    )


async def request_installation(
    tx: Transaction, order: CatalogueOrder, products: dict[str, ProductConfig]
) -> None:
    """The field job an installation needs, asked of dispatch as an agent's job request is."""
    installs = [(p.name, p.installation) for p in products.values() if p.installation is not None]
    if not installs or (order.supply or {}).get("method") != "installation":
        return
    supply, payment = order.supply or {}, order.payment or {}
    order.job_id = new_id()
    names = ", ".join(name for name, _ in installs)
    try:
        job = _job(order, installs, supply, payment, names)
    except ValidationError as error:  # a stored part no longer fits a job request
        reason = error.errors()[0]["msg"]
        raise domain.Refused(f"the installation cannot be asked for: {reason}") from None
    await tx.emit(
        Envelope.first(
            job, tenant_id=order.tenant_id, aggregate_id=job.job_id, contact_id=order.contact_id
        )
    )


def _job(
    order: CatalogueOrder,
    installs: list[tuple[str, InstallationConfig]],
    supply: dict[str, Any],
    payment: dict[str, Any],
    names: str,
) -> JobRequested:
    assert order.job_id is not None
    return JobRequested(
        job_id=order.job_id,
        agent_id=order.agent_id,
        site=Site.model_validate(supply["site"]),
        work_type=installs[0][1].work_type,
        skills=sorted({skill for _, work in installs for skill in work.skills}),
        estimated_minutes=sum(work.estimated_minutes for _, work in installs),
        window=TimeWindow.model_validate(supply["window"]),
        special_instructions=f"Install: {names} (order {order.order_id})",
        customer=Customer(name=order.customer["name"], phone=order.customer.get("phone")),
        payment=Payment(
            method=PAYMENT_FOR_FIELD[payment["method"]],
            token=payment.get("token"),
        ),
    )
