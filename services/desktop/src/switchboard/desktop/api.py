"""The agent's API: sign in, the event stream, and the commands; each command is checked against
the agent's tenants and current assignment and becomes an event on Kafka.

Tenancy: a contact of a tenant the agent does not serve is answered 404, as if it did not exist.
A command on a contact the agent may see but does not hold (someone else's, or already wrapped)
gets 403 or 409 with the reason.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, Payload, utcnow
from switchboard.common.events.channels import ChatActivity
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ComplaintRaised,
    ContactAccepted,
    ContactDeclined,
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
from switchboard.common.passwords import verify_password
from switchboard.common.runtime import Runtime, Transaction
from switchboard.common.telemetry import continued_span
from switchboard.desktop import mail, security, store, streams
from switchboard.desktop.settings import DesktopSettings

router = APIRouter(prefix="/v1")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# -- signing in -----------------------------------------------------------------------------------
class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


@router.post("/session")
async def sign_in(body: SignIn, request: Request) -> dict[str, Any]:
    """A signed token for the agent, valid for `SWITCHBOARD_DESKTOP_SESSION_HOURS`; 401 for a wrong
    username or password (the same answer for both)."""
    runtime = _runtime(request)
    async with runtime.db.reader() as session:
        agent = await session.get(store.DesktopAgent, body.username)
    stored = agent.password_hash if agent else None
    if agent is None or stored is None or not verify_password(body.password, stored):
        raise HTTPException(401, "wrong username or password")
    settings: DesktopSettings = runtime.state["settings"]
    token, expires_at = security.issue(
        runtime.state["signing_key"],
        agent.agent_id,
        lifetime=timedelta(hours=settings.desktop_session_hours),
    )
    return {"token": token, "expires_at": expires_at.isoformat(), "agent": _profile(agent)}


async def current_agent(request: Request) -> store.DesktopAgent:
    """FastAPI dependency: the signed-in agent, or 401 (no token, a forged one, an expired one)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.query_params.get("token", "")  # EventSource cannot send headers
    if not token:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    runtime = _runtime(request)
    try:
        claims = security.verify(runtime.state["signing_key"], token.strip())
    except security.InvalidToken as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    async with runtime.db.reader() as session:
        agent = await session.get(store.DesktopAgent, claims.agent_id)
    if agent is None:
        raise HTTPException(401, "no such agent any more", headers={"WWW-Authenticate": "Bearer"})
    return agent


Agent = Annotated[store.DesktopAgent, Depends(current_agent)]


def _profile(agent: store.DesktopAgent) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "tenants": agent.tenants,
        "supervisor": agent.supervisor,
        "quality_analyst": agent.quality_analyst,
        "team": agent.team,
        "state": agent.state,
        "state_reason": agent.state_reason,
    }


async def _snapshot(session: AsyncSession, agent: store.DesktopAgent) -> dict[str, Any]:
    offers = await store.open_offers(session, agent.agent_id)
    contacts = await store.assigned_contacts(session, agent.agent_id)
    follow_ups = await store.open_follow_ups(session, agent.agent_id)
    return {
        **_profile(agent),
        "offers": [o.model_dump(mode="json", exclude={"offered_event_id"}) for o in offers],
        "contacts": [_summary(c) for c in contacts],
        "follow_ups": [f.model_dump(mode="json") for f in follow_ups],
    }


@router.get("/me")
async def me(agent: Agent, request: Request) -> dict[str, Any]:
    """The agent's state, open offers, assigned contacts and the follow-ups they promised."""
    async with _runtime(request).db.reader() as session:
        return await _snapshot(session, agent)


# -- the event stream -----------------------------------------------------------------------------
@router.get("/events")
async def events(
    agent: Agent,
    request: Request,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    resume_from: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
) -> StreamingResponse:
    """Server-Sent Events: offers (with their deadline), withdrawals, assignments, wrap-ups,
    escalations, state changes, the DNC gate's answers, supervisors' alerts. Without
    `Last-Event-ID`, the first event is `hello`: the agent's state now. With it, exactly the events
    after that id, then new ones as they happen."""
    runtime = _runtime(request)
    settings: DesktopSettings = runtime.state["settings"]
    after = last_event_id if last_event_id is not None else resume_from
    hello = None
    if after is None:
        async with runtime.db.reader() as session:
            fresh = await session.get(store.DesktopAgent, agent.agent_id)
            assert fresh is not None
            after = fresh.last_seq
            hello = await _snapshot(session, fresh)
    body = streams.stream(
        runtime.db,
        runtime.state["wakeups"],
        agent.agent_id,
        after=after,
        hello=hello,
        heartbeat=settings.desktop_heartbeat_seconds,
    )
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


# -- presence and offers --------------------------------------------------------------------------
class StateChange(BaseModel):
    state: Literal["available", "break", "offline"]
    reason: str | None = Field(default=None, max_length=200)


@router.post("/state", status_code=202)
async def set_state(body: StateChange, agent: Agent, request: Request) -> dict[str, Any]:
    if body.state == "break" and not body.reason:
        raise HTTPException(422, "a break needs a reason (e.g. lunch, training, coaching)")
    event = Envelope.first(
        AgentStateChanged(agent_id=agent.agent_id, state=body.state, reason=body.reason),
        tenant_id=agent.tenants[0],
        aggregate_id=agent.agent_id,
    )
    async with _runtime(request).transaction() as tx:
        await tx.emit(event)
    return {"state": body.state, "event_id": event.event_id}


async def _my_open_offer(tx: Transaction, agent: store.DesktopAgent, offer_id: str
                         ) -> store.DesktopOffer:  # fmt: skip
    offer = await tx.session.get(store.DesktopOffer, offer_id)
    if offer is None or offer.agent_id != agent.agent_id:
        raise HTTPException(404, "no such offer")
    if offer.status != "open":
        raise HTTPException(409, f"the offer is no longer open ({offer.status})")
    if offer.expires_at.replace(tzinfo=utcnow().tzinfo) <= utcnow():
        raise HTTPException(409, "the offer has expired")
    return offer


def _about_offer(offer: store.DesktopOffer, contact: store.DesktopContact, payload: Payload
                 ) -> Envelope[Any]:  # fmt: skip
    return Envelope.resume(
        payload,
        tenant_id=offer.tenant_id,
        aggregate_id=offer.contact_id,
        contact_id=offer.contact_id,
        correlation_id=contact.correlation_id,
        causation_id=offer.offered_event_id,
    )


@router.post("/offers/{offer_id}/accept", status_code=202)
async def accept_offer(offer_id: str, agent: Agent, request: Request) -> dict[str, Any]:
    """Accept an open offer; routing confirms with `assigned` on the stream."""
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        offer = await _my_open_offer(tx, agent, offer_id)
        contact = await contact_of(tx.session, agent, offer.contact_id)
        offer.status = "accepting"
        tx.session.add(offer)
        with _in_contact_trace(runtime, contact, "desktop accept"):
            payload = ContactAccepted(offer_id=offer_id, agent_id=agent.agent_id)
            await tx.emit(_about_offer(offer, contact, payload))
    return {"offer_id": offer_id, "contact_id": offer.contact_id, "status": "accepting"}


class Decline(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


@router.post("/offers/{offer_id}/decline", status_code=202)
async def decline_offer(
    offer_id: str, agent: Agent, request: Request, body: Decline | None = None
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        offer = await _my_open_offer(tx, agent, offer_id)
        contact = await contact_of(tx.session, agent, offer.contact_id)
        offer.status = "declined"
        tx.session.add(offer)
        with _in_contact_trace(runtime, contact, "desktop decline"):
            payload = ContactDeclined(
                offer_id=offer_id, agent_id=agent.agent_id, reason=body.reason if body else None
            )
            await tx.emit(_about_offer(offer, contact, payload))
    return {"offer_id": offer_id, "status": "declined"}


# -- the contact ----------------------------------------------------------------------------------
async def contact_of(session: AsyncSession, agent: store.DesktopAgent, contact_id: str
                      ) -> store.DesktopContact:  # fmt: skip
    contact = await session.get(store.DesktopContact, contact_id)
    if contact is None or not agent.serves(contact.tenant_id):
        raise HTTPException(404, "no such contact")
    return contact


async def my_assignment(tx: Transaction, agent: store.DesktopAgent, contact_id: str
                         ) -> store.DesktopContact:  # fmt: skip
    contact = await contact_of(tx.session, agent, contact_id)
    if agent.agent_id in (contact.also_held or []):
        return contact  # they handed it on warm, or share it in a conference, until they wrap up
    if contact.agent_id != agent.agent_id:
        raise HTTPException(403, "this contact is not assigned to you")
    if contact.status != "assigned":
        raise HTTPException(409, f"this contact is {contact.status}, not in your hands")
    return contact


def _summary(contact: store.DesktopContact) -> dict[str, Any]:
    return contact.model_dump(
        mode="json",
        include={"contact_id", "channel", "subject", "received_at", "queue_id", "status",
                 "agent_id", "disposition", "outcome", "wrapped_at"},
    )  # fmt: skip


@router.get("/contacts/{contact_id}")
async def get_contact(contact_id: str, agent: Agent, request: Request) -> dict[str, Any]:
    """The contact's content (masked as intake masked it), the customer's previous contacts and
    open field jobs, and the queue's contact guide."""
    async with _runtime(request).db.reader() as session:
        contact = await contact_of(session, agent, contact_id)
        previous = await store.history(session, contact)
        jobs = await store.open_jobs(
            session, [contact.contact_id, *(c.contact_id for c in previous)]
        )
        queues = list(
            await session.exec(
                select(store.QueueScript).where(
                    col(store.QueueScript.tenant_id) == contact.tenant_id
                )
            )
        )
    script = next((q for q in queues if q.queue_id == contact.queue_id), None)
    detail = contact.model_dump(
        mode="json", exclude={"correlation_id", "trace_parent", "conversation_token"}
    )
    guide = None
    if script is not None:
        guide = script.model_dump(include={"name", "greeting", "notes", "closing"})
        for part in ("greeting", "notes", "closing"):
            guide[part] = guide[part].replace("{agent}", agent.name.split()[0])
    return {
        **detail,
        "history": [_summary(c) for c in previous],
        "open_jobs": [j.model_dump(mode="json", exclude={"tenant_id"}) for j in jobs],
        "script": guide,
        "queues": [{"queue_id": q.queue_id, "name": q.name} for q in queues],
    }


def about_contact(contact: store.DesktopContact, payload: Payload, *, aggregate_id: str | None = None
                   ) -> Envelope[Any]:  # fmt: skip
    return Envelope.resume(
        payload,
        tenant_id=contact.tenant_id,
        aggregate_id=aggregate_id or contact.contact_id,
        contact_id=contact.contact_id,
        correlation_id=contact.correlation_id,
        causation_id=contact.correlation_id,
    )


class WrapUp(BaseModel):
    disposition: str = Field(min_length=1, max_length=64)
    outcome: Outcome
    notes: str | None = Field(default=None, max_length=4000)


@router.post("/contacts/{contact_id}/wrapup", status_code=202)
async def wrap_up(contact_id: str, body: WrapUp, agent: Agent, request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        if agent.agent_id not in (contact.also_held or []):  # (a shared one stays assigned)
            contact.status = "wrapping"
            tx.session.add(contact)
            if contact.channel == "chat" and contact.handed_on_by != agent.agent_id:
                ended = ChatActivity(kind="ended", by="agent", agent_id=agent.agent_id)
                await tx.emit(about_contact(contact, ended))
        with _in_contact_trace(runtime, contact, "desktop wrap-up"):
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
async def escalate(contact_id: str, body: Escalation, agent: Agent, request: Request
                   ) -> dict[str, Any]:  # fmt: skip
    """An enquiry that cannot be satisfied immediately: the agent's part ends (wrapped with outcome
    `escalated`) and the contact goes to the target queue; the agent is told how it ends."""
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        if await tx.session.get(store.QueueScript, (contact.tenant_id, body.queue_id)) is None:
            raise HTTPException(422, f"no queue {body.queue_id!r} to escalate to")
        contact.status = "wrapping"
        tx.session.add(contact)
        with _in_contact_trace(runtime, contact, "desktop escalate"):
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
async def promise_follow_up(contact_id: str, body: FollowUp, agent: Agent, request: Request
                            ) -> dict[str, Any]:  # fmt: skip
    """Promise the customer a callback or follow-up at `due_at` (offered to this agent first when
    it falls due)."""
    if body.due_at <= utcnow():
        raise HTTPException(422, "due_at must be in the future")
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        channel = body.channel or contact.channel or "phone"
        promised = FollowUpPromised(
            follow_up_id=new_id(),
            agent_id=agent.agent_id,
            due_at=body.due_at,
            channel=channel,
            note=body.note,
        )
        with _in_contact_trace(runtime, contact, "desktop follow-up"):
            await tx.emit(about_contact(contact, promised))
    return {"follow_up_id": promised.follow_up_id, "due_at": body.due_at.isoformat()}


class Done(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


@router.post("/follow-ups/{follow_up_id}/done", status_code=202)
async def follow_up_done(follow_up_id: str, agent: Agent, request: Request, body: Done | None = None
                         ) -> dict[str, Any]:  # fmt: skip
    """The agent kept their promise (called or wrote back)."""
    runtime = _runtime(request)
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
        with _in_contact_trace(runtime, contact, "desktop follow-up done"):
            await tx.emit(about_contact(contact, done))
    return {"follow_up_id": follow_up_id, "status": "done"}


class Complaint(BaseModel):
    category: str = Field(min_length=1, max_length=64)
    summary: str = Field(min_length=1, max_length=4000)


@router.post("/contacts/{contact_id}/complaint", status_code=202)
async def raise_complaint(contact_id: str, body: Complaint, agent: Agent, request: Request
                          ) -> dict[str, Any]:  # fmt: skip
    """Mark the contact a complaint: from now on the tenant's complaint policy applies to it."""
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        raised = ComplaintRaised(
            complaint_id=new_id(), agent_id=agent.agent_id, **body.model_dump()
        )
        with _in_contact_trace(runtime, contact, "desktop complaint"):
            await tx.emit(about_contact(contact, raised))
    return {"complaint_id": raised.complaint_id}


class Improvement(BaseModel):
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)


@router.post("/contacts/{contact_id}/improvements", status_code=202)
async def note_improvement(contact_id: str, body: Improvement, agent: Agent, request: Request
                           ) -> dict[str, Any]:  # fmt: skip
    """Record a difficulty met on a contact the agent handled (during or after), not escalated,
    that may be an opportunity for continuous improvement."""
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await contact_of(tx.session, agent, contact_id)
        if contact.agent_id != agent.agent_id:
            raise HTTPException(403, "only the agent who handled the contact can note this")
        noted = ImprovementNoted(
            improvement_id=new_id(), agent_id=agent.agent_id, **body.model_dump()
        )
        with _in_contact_trace(runtime, contact, "desktop improvement"):
            await tx.emit(about_contact(contact, noted))
    return {"improvement_id": noted.improvement_id}


@router.post("/contacts/{contact_id}/jobs", status_code=202)
async def request_job(contact_id: str, body: JobDetails, agent: Agent, request: Request
                      ) -> dict[str, Any]:  # fmt: skip
    """Ask for field staff on site; dispatch answers on the stream."""
    if body.window.end <= body.window.start:
        raise HTTPException(422, "the window must end after it starts")
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        job = JobRequested(job_id=new_id(), agent_id=agent.agent_id, **body.model_dump())
        with _in_contact_trace(runtime, contact, "desktop job request"):
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
    runtime = _runtime(request)
    async with runtime.transaction() as tx:
        contact = await my_assignment(tx, agent, contact_id)
        with _in_contact_trace(runtime, contact, "desktop reply"):
            if contact.channel == "email":
                sent = await _email_reply(tx, contact, agent, body)
            elif contact.channel in OUTBOUND_CHANNELS:
                sent = await _outbound_reply(tx, contact, agent, body)
            elif contact.channel == "chat":
                sent = await _chat_reply(tx, contact, agent, body)
            else:
                raise HTTPException(
                    422,
                    f"a {contact.channel} contact is not answered from here; note what was said",
                )
    return sent.model_dump(mode="json", include={"channel", "to", "subject", "message_id",
                                                 "outbound_request_id"})  # fmt: skip


async def _email_reply(tx: Transaction, contact: store.DesktopContact, agent: store.DesktopAgent,
                       body: Reply) -> ReplySent:  # fmt: skip
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


async def _outbound_reply(tx: Transaction, contact: store.DesktopContact,
                          agent: store.DesktopAgent, body: Reply) -> ReplySent:  # fmt: skip
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


# -- the supervisor's wallboard -------------------------------------------------------------------
@router.get("/supervisor")
async def wallboard(agent: Agent, request: Request) -> dict[str, Any]:
    """Live queue statistics and every agent's state, for the supervisor's own tenants."""
    if not agent.supervisor:
        raise HTTPException(403, "the wallboard is for supervisors")
    async with _runtime(request).db.reader() as session:
        figures = await session.exec(
            select(store.QueueFigures).where(col(store.QueueFigures.tenant_id).in_(agent.tenants))
        )
        scripts = await session.exec(
            select(store.QueueScript).where(col(store.QueueScript.tenant_id).in_(agent.tenants))
        )
        names = {(s.tenant_id, s.queue_id): s.name for s in scripts}
        agents = [a for a in await session.exec(select(store.DesktopAgent))
                  if set(a.tenants) & set(agent.tenants)]  # fmt: skip
        holding = await store.holdings(session, [a.agent_id for a in agents])
    queues = [
        {"tenant_id": f.tenant_id, "name": names.get((f.tenant_id, f.queue_id)), **f.figures,
         "updated_at": f.updated_at.isoformat()}
        for f in figures
    ]  # fmt: skip
    return {
        "queues": sorted(queues, key=lambda q: (q["tenant_id"], q["queue_id"])),
        "agents": [
            {**_profile(a), "state_since": a.state_since.isoformat(),
             "contacts": len(holding[a.agent_id]),
             "on_call": next((c.contact_id for c in holding[a.agent_id] if c.channel == "phone"),
                             None)}
            for a in sorted(agents, key=lambda a: a.agent_id)
        ],
    }  # fmt: skip


def _in_contact_trace(runtime: Runtime, contact: store.DesktopContact, name: str
                      ) -> contextlib.AbstractContextManager[None]:  # fmt: skip
    """The agent's command as a span of the contact's trace, so what it emits continues it."""
    tracer = runtime.tracer_provider.get_tracer("switchboard.desktop")
    return continued_span(tracer, contact.trace_parent, name,
                          tenant_id=contact.tenant_id, contact_id=contact.contact_id)  # fmt: skip
