"""Corrections (APP 13): applied once however often delivered, the old value kept in history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.testing import service_under_test
from switchboard.recording import customers
from switchboard.recording.handlers import SERVICE, subscriptions


async def test_a_correction_keeps_the_old_value_and_applies_once(tmp_path: Path) -> None:
    received = ContactReceived(
        channel="email",
        conversation_id="conv-1",
        received_at=datetime.now(UTC),
        destination="help@acme.example",
        external_id="m-1",
        customer=Party(name="Jo Citzen", email="jo@example.net"),
    )
    async with service_under_test(SERVICE, subscriptions, tmp_path) as recording:
        await recording.deliver(
            Envelope.first(received, tenant_id="acme", aggregate_id="c1", contact_id="c1")
        )
        async with await recording.session() as session:
            [customer] = (await session.exec(select(customers.RecordedCustomer))).all()
        for field, old, new in (
            ("name", None, "Jo Citizen"),
            ("email", "jo@example.net", "jo@example.org"),
        ):
            correction = CustomerCorrected(
                field=field,
                old_value=old,
                new_value=new,
                reason="asked",
                actor="ops",  # type: ignore[arg-type]
            )
            event = Envelope.first(correction, tenant_id="acme", aggregate_id=customer.customer_id)
            await recording.deliver(event)
            await recording.deliver(event)  # redelivered: applied once

        async with await recording.session() as session:
            history = await customers.corrections(session, customer.customer_id)
            identities = await customers.identities(session, customer.customer_id)
            fresh = await customers.get(session, tenant_id="acme", customer_id=customer.customer_id)
            trail = await customers.audit_trail(session, customer.customer_id)
        assert [(h.field, h.old_value, h.new_value) for h in history] == [
            ("name", "Jo Citzen", "Jo Citizen"),
            ("email", "jo@example.net", "jo@example.org"),
        ]
        assert [i.value for i in identities] == ["jo@example.org"]
        assert fresh is not None and fresh.name == "Jo Citizen"
        assert [a.action for a in trail] == ["correct", "correct"]
