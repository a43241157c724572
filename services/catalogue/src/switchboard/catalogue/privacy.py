"""The catalogue's part of an erasure request: the customer's details on orders taken on their
contacts (name, number, supply address, payment, credit and agreement details), and their name on
retention offers. An order keeps its lines, totals and status, so sales figures still add up."""

from __future__ import annotations

from typing import Any

from switchboard.catalogue import store
from switchboard.common.envelope import Envelope
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.privacy import corrected_party, report
from switchboard.common.runtime import Transaction

SERVICE = "catalogue"
KEPT = ("type", "status", "result", "outcome", "method", "approved", "decision", "agreed")
"""What an order's customer, payment, credit or agreement details keep: how, not who."""


def _kept(details: dict[str, Any] | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {k: v for k, v in details.items() if k in KEPT} | {"erased": True}


async def erase(tx: Transaction, event: Envelope[ErasureRequested]) -> None:
    asked, session = event.payload, tx.session
    orders = await store.orders_of_contacts(
        session, contact_ids=asked.contact_ids, tenant_id=event.tenant_id
    )
    for order in orders:
        order.customer = _kept(order.customer) or {"erased": True}
        order.supply, order.payment = _kept(order.supply), _kept(order.payment)
        order.credit, order.agreement = _kept(order.credit), _kept(order.agreement)
        session.add(order)
    offers = await store.erase_retention_names(session, contact_ids=asked.contact_ids)
    await report(tx, event, SERVICE, {"orders": len(orders), "retention_offers": offers})


async def correct(tx: Transaction, event: Envelope[CustomerCorrected]) -> None:
    """The correction on orders taken on the customer's contacts (APP 13)."""
    correction = event.payload
    for order in await store.orders_of_contacts(tx.session, contact_ids=correction.contact_ids):
        name, _, phone = corrected_party(
            correction, order.customer.get("name"), None, order.customer.get("phone")
        )
        order.customer = {**order.customer, "name": name, "phone": phone}
        tx.session.add(order)
