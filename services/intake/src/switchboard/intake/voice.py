"""Call control: routing's `call.route` and `call.control` commands delivered to the tenant's
telephony platform (its channel system's `control_url`, signed), each once, and what the platform
answered published as `call.command_result` for routing (a call it could not connect goes back in
line; a callback's dial result decides the next try) and the record."""

from __future__ import annotations

from typing import Any

from switchboard.common.envelope import Envelope
from switchboard.common.events.channels import CallCommandResult, CallControl, CallRoute
from switchboard.common.runtime import Transaction
from switchboard.intake import egress, store
from switchboard.intake.context import Intake


async def deliver(
    tx: Transaction, intake: Intake, event: Envelope[CallRoute] | Envelope[CallControl]
) -> None:
    command = event.payload
    if await tx.session.get(store.Delivery, command.command_id) is not None:
        return  # delivered before this redelivery
    agent_id: str | None
    if isinstance(command, CallRoute):
        name, agent_id = "route", command.agent_id
        body: dict[str, Any] = {
            "command": "route",
            "call_id": command.call_id,
            "extension": command.extension,
            "agent_id": command.agent_id,
            "mode": command.mode,
        }
    else:
        name, agent_id = command.action, command.agent_id
        body = {
            "command": command.action,
            "call_id": command.call_id,
            "extension": command.extension,
            "target": command.target,
            "requested_by": command.requested_by,
        }
    body |= {"command_id": command.command_id, "contact_id": event.about_contact_id}
    system = await store.system_for(tx.session, tenant_id=event.tenant_id, channel="phone")
    settings = intake.settings
    handed = await egress.hand_on(
        system,
        system.control_url if system else None,
        folder=settings.var_dir / "call-control",
        item_id=command.command_id,
        body=body,
        attempts=settings.intake_egress_attempts,
        pause_seconds=settings.intake_egress_pause_seconds,
        timeout_seconds=settings.intake_egress_timeout_seconds,
    )
    tx.session.add(
        store.Delivery(
            delivery_id=command.command_id,
            kind=f"call.{name}",
            tenant_id=event.tenant_id,
            outcome=handed.outcome,
            attempts=handed.attempts,
            detail=handed.reason[:500],
        )
    )
    result = CallCommandResult(
        command_id=command.command_id,
        call_id=command.call_id,
        command=name,
        outcome=handed.outcome,
        attempts=handed.attempts,
        reason=handed.reason,
        agent_id=agent_id,
    )
    await tx.emit(event.follow(result, aggregate_id=event.about_contact_id))
