"""Call control: routing's `call.route` and `call.control` commands delivered to the tenant's
telephony platform (its channel system's `control_url`, signed), each once, and what the platform
answered published as `call.command_result` for routing (a call it could not connect goes back in
line; a callback's dial result decides the next try) and the record."""

from __future__ import annotations

from typing import Any

from switchboard.common.envelope import Envelope
from switchboard.common.events.channels import CallCommandResult, CallControl, CallRoute
from switchboard.common.runtime import Transaction
from switchboard.intake import egress
from switchboard.intake.context import Intake


async def deliver(
    tx: Transaction, intake: Intake, event: Envelope[CallRoute] | Envelope[CallControl]
) -> None:
    command = event.payload
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
    handed = await egress.deliver_once(
        tx,
        intake.settings,
        tenant_id=event.tenant_id,
        channel="phone",
        item_id=command.command_id,
        kind=f"call.{name}",
        body=body,
    )
    if handed is None:
        return  # delivered before this redelivery
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
