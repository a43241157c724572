"""The desktop's commands for the newer ways of working: a walk-in logged at the counter, a
contact handed on to a named agent (blind, warm or in conference), typing shown in a chat, and
a supervisor's call monitoring (monitor, whisper, barge) and forced agent state, each audited."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.events.channels import (
    CallControl,
    ChatActivity,
    TransferMode,
    TransferRequested,
    WalkInLogged,
)
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.events.intake import Party
from switchboard.common.ids import new_id
from switchboard.common.runtime import runtime_of
from switchboard.desktop import floor_store, store
from switchboard.desktop.commands import Agent, about_contact, command

router = APIRouter(prefix="/v1", tags=["desktop"])


# -- walk-ins ---------------------------------------------------------------------------------------
class Customer(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)


class WalkIn(BaseModel):
    tenant_id: str | None = Field(default=None, max_length=64)
    customer: Customer = Customer()
    subject: str = Field(min_length=1, max_length=300)
    text: str = Field(default="", max_length=20000)
    started_at: AwareDatetime | None = None
    """When the customer came to the counter (now, unless logged afterwards)."""


@router.post("/walk-ins", status_code=202)
async def log_walk_in(body: WalkIn, agent: Agent, request: Request) -> dict[str, Any]:
    """A customer at the counter: recorded as a contact (channel `walk_in`), timed from
    `started_at` and already this agent's until they wrap it up."""
    tenant_id = body.tenant_id or agent.tenants[0]
    if not agent.serves(tenant_id):
        raise HTTPException(404, "no such tenant")
    started = body.started_at or utcnow()
    if started > utcnow():
        raise HTTPException(422, "a walk-in cannot start in the future")
    walk_in = WalkInLogged(
        walk_in_id=new_id(),
        agent_id=agent.agent_id,
        customer=Party(**body.customer.model_dump()),
        subject=body.subject,
        text=body.text,
        started_at=started,
    )
    async with runtime_of(request).transaction() as tx:
        await tx.emit(Envelope.first(walk_in, tenant_id=tenant_id, aggregate_id=walk_in.walk_in_id))
    return {"walk_in_id": walk_in.walk_in_id, "tenant_id": tenant_id}


# -- transfers --------------------------------------------------------------------------------------
class Transfer(BaseModel):
    mode: TransferMode = "blind"
    to_agent_id: str | None = Field(default=None, max_length=64)
    queue_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _somewhere(self) -> Transfer:
        if not self.to_agent_id and not self.queue_id:
            raise ValueError("a transfer names an agent (to_agent_id) or a queue (queue_id)")
        return self


@router.post("/contacts/{contact_id}/transfer", status_code=202)
async def transfer(
    contact_id: str, body: Transfer, agent: Agent, request: Request
) -> dict[str, Any]:
    """Hand the contact on: to a named agent (offered to them first, then to the queue) or to a
    queue. A warm transfer (a call) consults the target first and a conference keeps you on; in
    both you stay on the contact until you wrap it up. A blind one ends your part now."""
    async with command(request, agent, contact_id, "desktop transfer") as (tx, contact):
        if body.mode != "blind" and contact.channel not in ("phone", "chat"):
            raise HTTPException(422, f"a {body.mode} transfer is for a call or a chat")
        if body.to_agent_id == agent.agent_id:
            raise HTTPException(422, "you hold it already")
        if body.to_agent_id:
            target = await tx.session.get(store.DesktopAgent, body.to_agent_id)
            if target is None or not target.serves(contact.tenant_id):
                raise HTTPException(
                    422, f"no agent {body.to_agent_id!r} serves this contact's tenant"
                )
        wanted = TransferRequested(
            transfer_id=new_id(),
            from_agent_id=agent.agent_id,
            mode=body.mode,
            to_agent_id=body.to_agent_id,
            queue_id=body.queue_id,
            reason=body.reason,
        )
        await tx.emit(about_contact(contact, wanted))
        contact.handed_on_by = agent.agent_id
        tx.session.add(contact)
    return wanted.model_dump(mode="json")


@router.post("/contacts/{contact_id}/typing", status_code=202)
async def typing(contact_id: str, agent: Agent, request: Request) -> dict[str, str]:
    """The agent is typing an answer: the customer's chat window shows it."""
    async with command(request, agent, contact_id, "desktop typing") as (tx, contact):
        if contact.channel != "chat":
            raise HTTPException(422, "typing is shown in a chat only")
        activity = ChatActivity(kind="typing", by="agent", agent_id=agent.agent_id)
        await tx.emit(about_contact(contact, activity))
    return {"status": "told"}


# -- supervision ------------------------------------------------------------------------------------
def _supervisor(agent: store.DesktopAgent) -> None:
    if not agent.supervisor:
        raise HTTPException(403, "this is for supervisors")


@router.post("/supervisor/calls/{contact_id}/{action}", status_code=202)
async def supervise_call(
    contact_id: str, action: Literal["monitor", "whisper", "barge"], agent: Agent, request: Request
) -> dict[str, Any]:
    """Listen to an agent's call (monitor), speak to the agent alone (whisper) or join the call
    (barge): a command to the telephony platform from the supervisor's extension, audited."""
    _supervisor(agent)
    span = f"desktop supervisor {action}"
    async with command(request, agent, contact_id, span, held=False) as (tx, contact):
        if contact.channel != "phone" or not contact.call_id:
            raise HTTPException(422, "only a call can be monitored")
        if contact.status != "assigned" or contact.agent_id is None:
            raise HTTPException(409, "nobody is on this call now")
        if not agent.extension:
            raise HTTPException(422, "you have no extension to listen from")
        held_by = await tx.session.get(store.DesktopAgent, contact.agent_id)
        control = CallControl(
            command_id=new_id(),
            call_id=contact.call_id,
            action=action,
            extension=agent.extension,
            target=(held_by.extension if held_by else None) or contact.agent_id,
            requested_by=agent.agent_id,
            agent_id=contact.agent_id,
        )
        await tx.emit(about_contact(contact, control))
        tx.session.add(
            floor_store.SupervisorAction(
                action_id=control.command_id,
                tenant_id=contact.tenant_id,
                supervisor_id=agent.agent_id,
                action=action,
                agent_id=contact.agent_id,
                contact_id=contact.contact_id,
            )
        )
    return {"command_id": control.command_id, "action": action, "agent_id": contact.agent_id}


class ForcedState(BaseModel):
    state: Literal["available", "break", "offline"]
    reason: str = Field(min_length=1, max_length=200)


@router.post("/supervisor/agents/{agent_id}/state", status_code=202)
async def force_state(
    agent_id: str, body: ForcedState, agent: Agent, request: Request
) -> dict[str, Any]:
    """Set an agent of your tenants available, on a break or offline (they are told, and the
    audit says who did it and why)."""
    _supervisor(agent)
    async with runtime_of(request).transaction() as tx:
        target = await tx.session.get(store.DesktopAgent, agent_id)
        tenants = set(target.tenants) & set(agent.tenants) if target else set()
        if target is None or not tenants:
            raise HTTPException(404, "no such agent")
        tenant_id = sorted(tenants)[0]
        change = AgentStateChanged(
            agent_id=agent_id,
            state=body.state,
            source="supervisor",
            reason=f"{body.reason} (set by {agent.agent_id})"[:200],
        )
        await tx.emit(Envelope.first(change, tenant_id=tenant_id, aggregate_id=agent_id))
        tx.session.add(
            floor_store.SupervisorAction(
                action_id=new_id(),
                tenant_id=tenant_id,
                supervisor_id=agent.agent_id,
                action=f"state:{body.state}",
                agent_id=agent_id,
                detail=body.reason,
            )
        )
    return {"agent_id": agent_id, "state": body.state}


@router.get("/supervisor/actions")
async def supervisor_actions(agent: Agent, request: Request, limit: int = 100) -> dict[str, Any]:
    """The audit of supervisors' actions in your tenants, newest first."""
    _supervisor(agent)
    async with runtime_of(request).db.reader() as session:
        rows = await floor_store.supervisor_actions(
            session, tenant_ids=agent.tenants, limit=min(max(limit, 1), 500)
        )
        return {"actions": [r.model_dump(mode="json") for r in rows]}
