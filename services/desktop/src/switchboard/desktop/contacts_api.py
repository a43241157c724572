"""The agent's commands on a contact they hold: wrap it up, escalate it, promise (and keep) a
follow-up, mark it a complaint, note an improvement, ask for a field job, reply on its channel.
Each becomes an event on Kafka in the contact's trace (`commands.command`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, Field

from switchboard.common.envelope import utcnow
from switchboard.common.events.channels import ChatActivity
from switchboard.common.events.desktop import (
    ComplaintRaised,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ImprovementNoted,
    JobDetails,
    JobRequested,
    Outcome,
    ReplySent,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.outbound import OutboundRequested
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction, runtime_of
from switchboard.desktop import floor_store, mail, store
from switchboard.desktop.commands import Agent, about_contact, command, contact_of, in_contact_trace

router = APIRouter()


class WrapUp(BaseModel):
    disposition: str = Field(min_length=1, max_length=64)
    outcome: Outcome
    notes: str | None = Field(default=None, max_length=4000)


@router.post("/contacts/{contact_id}/wrapup", status_code=202)
async def wrap_up(contact_id: str, body: WrapUp, agent: Agent, request: Request) -> dict[str, Any]:
    async with command(request, agent, contact_id, "desktop wrap-up") as (tx, contact):
        if agent.agent_id not in (contact.also_held or []):  # (a shared one stays assigned)
            contact.status = "wrapping"
            tx.session.add(contact)
            if contact.channel == "chat" and contact.handed_on_by != agent.agent_id:
                ended = ChatActivity(kind="ended", by="agent", agent_id=agent.agent_id)
                await tx.emit(about_contact(contact, ended))
        payload = ContactWrapped(agent_id=agent.agent_id, **body.model_dump())
        await tx.emit(about_contact(contact, payload))
    return {"contact_id": contact_id, "status": "wrapping"}


class Escalation(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    category: str = Field(min_length=1, max_length=64)
    queue_id: str = Field(min_length=1, max_length=64, description="The target queue.")
    priority: int | None = Field(default=None, ge=1, le=10)
    notes: str | None = Field(default=None, max_length=4000)


@router.post("/contacts/{contact_id}/escalate", status_code=202)
async def escalate(
    contact_id: str, body: Escalation, agent: Agent, request: Request
) -> dict[str, Any]:
    """An enquiry that cannot be satisfied immediately: the agent's part ends (wrapped with outcome
    `escalated`) and the contact goes to the target queue; the agent is told how it ends."""
    async with command(request, agent, contact_id, "desktop escalate") as (tx, contact):
        if (
            await tx.session.get(floor_store.QueueScript, (contact.tenant_id, body.queue_id))
            is None
        ):
            raise HTTPException(422, f"no queue {body.queue_id!r} to escalate to")
        contact.status = "wrapping"
        tx.session.add(contact)
        wrapped = ContactWrapped(
            agent_id=agent.agent_id,
            disposition=f"escalated: {body.category}",
            outcome="escalated",
            notes=body.notes or body.reason,
        )
        await tx.emit(about_contact(contact, wrapped))
        escalated = ContactEscalated(
            reason=body.reason,
            category=body.category,
            queue_id=body.queue_id,
            priority=body.priority,
            requested_by=agent.agent_id,
        )
        await tx.emit(about_contact(contact, escalated))
    return {"contact_id": contact_id, "status": "escalated", "queue_id": body.queue_id}


class FollowUp(BaseModel):
    due_at: AwareDatetime
    channel: Literal["phone", "email", "letter", "fax"] | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.post("/contacts/{contact_id}/follow-ups", status_code=202)
async def promise_follow_up(
    contact_id: str, body: FollowUp, agent: Agent, request: Request
) -> dict[str, Any]:
    """Promise the customer a callback or follow-up at `due_at` (offered to this agent first when
    it falls due)."""
    if body.due_at <= utcnow():
        raise HTTPException(422, "due_at must be in the future")
    async with command(request, agent, contact_id, "desktop follow-up") as (tx, contact):
        promised = FollowUpPromised(
            follow_up_id=new_id(),
            agent_id=agent.agent_id,
            due_at=body.due_at,
            channel=body.channel or contact.channel or "phone",
            note=body.note,
        )
        await tx.emit(about_contact(contact, promised))
    return {"follow_up_id": promised.follow_up_id, "due_at": body.due_at.isoformat()}


class Done(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


@router.post("/follow-ups/{follow_up_id}/done", status_code=202)
async def follow_up_done(
    follow_up_id: str, agent: Agent, request: Request, body: Done | None = None
) -> dict[str, Any]:
    """The agent kept their promise (called or wrote back)."""
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        follow_up = await tx.session.get(store.DesktopFollowUp, follow_up_id)
        if follow_up is None or follow_up.agent_id != agent.agent_id:
            raise HTTPException(404, "no such follow-up of yours")
        if follow_up.status != "open":
            raise HTTPException(409, "the follow-up is already done")
        follow_up.status = "done"
        tx.session.add(follow_up)
        contact = await contact_of(tx.session, agent, follow_up.contact_id)
        done = FollowUpDone(
            follow_up_id=follow_up_id, agent_id=agent.agent_id, note=body.note if body else None
        )
        with in_contact_trace(runtime, contact, "desktop follow-up done"):
            await tx.emit(about_contact(contact, done))
    return {"follow_up_id": follow_up_id, "status": "done"}


class Complaint(BaseModel):
    category: str = Field(min_length=1, max_length=64)
    summary: str = Field(min_length=1, max_length=4000)


@router.post("/contacts/{contact_id}/complaint", status_code=202)
async def raise_complaint(
    contact_id: str, body: Complaint, agent: Agent, request: Request
) -> dict[str, Any]:
    """Mark the contact a complaint: from now on the tenant's complaint policy applies to it."""
    async with command(request, agent, contact_id, "desktop complaint") as (tx, contact):
        raised = ComplaintRaised(
            complaint_id=new_id(), agent_id=agent.agent_id, **body.model_dump()
        )
        await tx.emit(about_contact(contact, raised))
    return {"complaint_id": raised.complaint_id}


class Improvement(BaseModel):
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)


@router.post("/contacts/{contact_id}/improvements", status_code=202)
async def note_improvement(
    contact_id: str, body: Improvement, agent: Agent, request: Request
) -> dict[str, Any]:
    """Record a difficulty met on a contact the agent handled (during or after), not escalated,
    that may be an opportunity for continuous improvement."""
    span = "desktop improvement"
    async with command(request, agent, contact_id, span, held=False) as (tx, contact):
        if contact.agent_id != agent.agent_id:
            raise HTTPException(403, "only the agent who handled the contact can note this")
        noted = ImprovementNoted(
            improvement_id=new_id(), agent_id=agent.agent_id, **body.model_dump()
        )
        await tx.emit(about_contact(contact, noted))
    return {"improvement_id": noted.improvement_id}


@router.post("/contacts/{contact_id}/jobs", status_code=202)
async def request_job(
    contact_id: str, body: JobDetails, agent: Agent, request: Request
) -> dict[str, Any]:
    """Ask for field staff on site; dispatch answers on the stream."""
    if body.window.end <= body.window.start:
        raise HTTPException(422, "the window must end after it starts")
    async with command(request, agent, contact_id, "desktop job request") as (tx, contact):
        job = JobRequested(job_id=new_id(), agent_id=agent.agent_id, **body.model_dump())
        await tx.emit(about_contact(contact, job, aggregate_id=job.job_id))
    return {"job_id": job.job_id}


class Reply(BaseModel):
    text: str = Field(default="", max_length=20000)
    subject: str | None = Field(default=None, max_length=900)


OUTBOUND_CHANNELS: dict[str, Literal["call", "fax", "sms"]] = {
    "phone": "call",
    "fax": "fax",
    "sms": "sms",
}
"""The outbound request that answers a contact of each channel (it waits for the DNC gate)."""


@router.post("/contacts/{contact_id}/reply", status_code=202)
async def reply(contact_id: str, body: Reply, agent: Agent, request: Request) -> dict[str, Any]:
    """Answer the customer on the contact's channel. Email: a threaded reply through the relay. A
    call or fax: requested through the Do Not Call gate, whose answer comes on the stream."""
    async with command(request, agent, contact_id, "desktop reply") as (tx, contact):
        if contact.channel == "email":
            sent = await _email_reply(tx, contact, agent, body)
        elif contact.channel in OUTBOUND_CHANNELS:
            sent = await _outbound_reply(tx, contact, agent, body)
        elif contact.channel == "chat":
            sent = await _chat_reply(tx, contact, agent, body)
        else:
            raise HTTPException(
                422, f"a {contact.channel} contact is not answered from here; note what was said"
            )
    return sent.model_dump(
        mode="json", include={"channel", "to", "subject", "message_id", "outbound_request_id"}
    )


async def _email_reply(
    tx: Transaction, contact: store.DesktopContact, agent: store.DesktopAgent, body: Reply
) -> ReplySent:
    if not contact.customer_email:
        raise HTTPException(422, "the customer gave no email address to reply to")
    if not body.text.strip():
        raise HTTPException(422, "the reply has no text")
    original = mail.bracketed(contact.message_id) if contact.message_id else None
    references = [mail.bracketed(r) for r in contact.references] + ([original] if original else [])
    sent = ReplySent(
        agent_id=agent.agent_id,
        channel="email",
        to=contact.customer_email,
        subject=mail.reply_subject(body.subject or contact.subject, contact.conversation_token),
        text=body.text,
        message_id=mail.new_message_id(contact.destination or ""),
        in_reply_to=original,
        references=references,
    )
    await tx.emit(about_contact(contact, sent))
    return sent


async def _outbound_reply(
    tx: Transaction, contact: store.DesktopContact, agent: store.DesktopAgent, body: Reply
) -> ReplySent:
    if not contact.customer_phone:
        raise HTTPException(422, "the contact has no number to call back")
    channel = OUTBOUND_CHANNELS[contact.channel or ""]
    if channel in ("sms", "fax") and not body.text.strip():
        raise HTTPException(422, "the reply has no text")
    request_id = new_id()
    wanted = OutboundRequested(
        request_id=request_id,
        channel=channel,
        number=contact.customer_phone,
        purpose="service",
        requested_by=f"agent {agent.agent_id}",
    )
    await tx.emit(about_contact(contact, wanted, aggregate_id=request_id))
    tx.session.add(
        store.OutboundByAgent(
            request_id=request_id,
            agent_id=agent.agent_id,
            contact_id=contact.contact_id,
            channel=channel,
            text=body.text,
        )
    )
    # Sent, and a reply that stops the clocks, only once the gate clears it (handlers).
    return ReplySent(
        agent_id=agent.agent_id,
        channel="phone" if channel == "call" else channel,
        to=contact.customer_phone,
        text=body.text,
        outbound_request_id=request_id,
    )


async def _chat_reply(
    tx: Transaction, contact: store.DesktopContact, agent: store.DesktopAgent, body: Reply
) -> ReplySent:
    if not body.text.strip():
        raise HTTPException(422, "the reply has no text")
    sent = ReplySent(
        agent_id=agent.agent_id,
        channel="chat",
        to=contact.customer_name or "customer",
        text=body.text,
    )
    await tx.emit(about_contact(contact, sent))
    return sent
