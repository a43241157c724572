"""The agent's API: sign in, the event stream, presence, offers, the contact's page and the
supervisor's wallboard (the commands on a contact are in `contacts_api`, included here; what
they share, in `commands`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, P, utcnow
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ContactAccepted,
    ContactDeclined,
)
from switchboard.common.passwords import verify_password
from switchboard.common.runtime import Transaction, runtime_of
from switchboard.desktop import contacts_api, floor_store, security, store, streams
from switchboard.desktop.commands import Agent, contact_of, in_contact_trace, origin_of, profile
from switchboard.desktop.context import Desktop

router = APIRouter(prefix="/v1")
router.include_router(contacts_api.router)


# -- signing in -----------------------------------------------------------------------------------
class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


@router.post("/session")
async def sign_in(body: SignIn, request: Request) -> dict[str, Any]:
    """A signed token for the agent, valid for `SWITCHBOARD_DESKTOP_SESSION_HOURS`; 401 for a wrong
    username or password (the same answer for both)."""
    desktop = Desktop.of(request)
    async with desktop.runtime.db.reader() as session:
        agent = await session.get(store.DesktopAgent, body.username)
    stored = agent.password_hash if agent else None
    if agent is None or stored is None or not verify_password(body.password, stored):
        raise HTTPException(401, "wrong username or password")
    token, expires_at = security.issue(
        desktop.session_key.key,
        agent.agent_id,
        lifetime=timedelta(hours=desktop.settings.desktop_session_hours),
    )
    return {"token": token, "expires_at": expires_at.isoformat(), "agent": profile(agent)}


async def _snapshot(session: AsyncSession, agent: store.DesktopAgent) -> dict[str, Any]:
    offers = await store.open_offers(session, agent_id=agent.agent_id)
    contacts = await store.assigned_contacts(session, agent_id=agent.agent_id)
    follow_ups = await store.open_follow_ups(session, agent_id=agent.agent_id)
    return {
        **profile(agent),
        "offers": [o.model_dump(mode="json", exclude={"offered_event_id"}) for o in offers],
        "contacts": [_summary(c) for c in contacts],
        "follow_ups": [f.model_dump(mode="json") for f in follow_ups],
    }


@router.get("/me")
async def me(agent: Agent, request: Request) -> dict[str, Any]:
    """The agent's state, open offers, assigned contacts and the follow-ups they promised."""
    async with runtime_of(request).db.reader() as session:
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
    desktop = Desktop.of(request)
    runtime = desktop.runtime
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
        desktop.wakeups,
        agent.agent_id,
        after=after,
        hello=hello,
        heartbeat=desktop.settings.desktop_heartbeat_seconds,
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
    async with runtime_of(request).transaction() as tx:
        await tx.emit(event)
    return {"state": body.state, "event_id": event.event_id}


async def _my_open_offer(
    tx: Transaction, agent: store.DesktopAgent, offer_id: str
) -> store.DesktopOffer:
    offer = await tx.session.get(store.DesktopOffer, offer_id)
    if offer is None or offer.agent_id != agent.agent_id:
        raise HTTPException(404, "no such offer")
    if offer.status != "open":
        raise HTTPException(409, f"the offer is no longer open ({offer.status})")
    if offer.expires_at.replace(tzinfo=utcnow().tzinfo) <= utcnow():
        raise HTTPException(409, "the offer has expired")
    return offer


def _about_offer(
    offer: store.DesktopOffer, contact: store.DesktopContact, payload: P
) -> Envelope[P]:
    """An answer to an offer, caused by the offer."""
    origin = replace(origin_of(contact), causation_id=offer.offered_event_id)
    return origin.event(payload)


@router.post("/offers/{offer_id}/accept", status_code=202)
async def accept_offer(offer_id: str, agent: Agent, request: Request) -> dict[str, Any]:
    """Accept an open offer; routing confirms with `assigned` on the stream."""
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        offer = await _my_open_offer(tx, agent, offer_id)
        contact = await contact_of(tx.session, agent, offer.contact_id)
        offer.status = "accepting"
        tx.session.add(offer)
        with in_contact_trace(runtime, contact, "desktop accept"):
            payload = ContactAccepted(offer_id=offer_id, agent_id=agent.agent_id)
            await tx.emit(_about_offer(offer, contact, payload))
    return {"offer_id": offer_id, "contact_id": offer.contact_id, "status": "accepting"}


class Decline(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


@router.post("/offers/{offer_id}/decline", status_code=202)
async def decline_offer(
    offer_id: str, agent: Agent, request: Request, body: Decline | None = None
) -> dict[str, Any]:
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        offer = await _my_open_offer(tx, agent, offer_id)
        contact = await contact_of(tx.session, agent, offer.contact_id)
        offer.status = "declined"
        tx.session.add(offer)
        with in_contact_trace(runtime, contact, "desktop decline"):
            payload = ContactDeclined(
                offer_id=offer_id, agent_id=agent.agent_id, reason=body.reason if body else None
            )
            await tx.emit(_about_offer(offer, contact, payload))
    return {"offer_id": offer_id, "status": "declined"}


def _summary(contact: store.DesktopContact) -> dict[str, Any]:
    return contact.model_dump(
        mode="json",
        include={
            "contact_id",
            "channel",
            "subject",
            "received_at",
            "queue_id",
            "status",
            "agent_id",
            "disposition",
            "outcome",
            "wrapped_at",
        },
    )


@router.get("/contacts/{contact_id}")
async def get_contact(contact_id: str, agent: Agent, request: Request) -> dict[str, Any]:
    """The contact's content (masked as intake masked it), the customer's previous contacts and
    open field jobs, and the queue's contact guide."""
    async with runtime_of(request).db.reader() as session:
        contact = await contact_of(session, agent, contact_id)
        previous = await store.history(session, contact=contact)
        jobs = await store.open_jobs(
            session, contact_ids=[contact.contact_id, *(c.contact_id for c in previous)]
        )
        queues = await floor_store.queue_scripts(session, tenant_ids=[contact.tenant_id])
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


# -- the supervisor's wallboard -------------------------------------------------------------------
@router.get("/supervisor")
async def wallboard(agent: Agent, request: Request) -> dict[str, Any]:
    """Live queue statistics and every agent's state, for the supervisor's own tenants."""
    if not agent.supervisor:
        raise HTTPException(403, "the wallboard is for supervisors")
    async with runtime_of(request).db.reader() as session:
        figures = await floor_store.queue_figures(session, tenant_ids=agent.tenants)
        scripts = await floor_store.queue_scripts(session, tenant_ids=agent.tenants)
        names = {(s.tenant_id, s.queue_id): s.name for s in scripts}
        agents = await store.colleagues(session, tenant_ids=agent.tenants)
        holding = await store.holdings(session, agent_ids=[a.agent_id for a in agents])
    queues = [
        {
            "tenant_id": f.tenant_id,
            "name": names.get((f.tenant_id, f.queue_id)),
            **f.figures,
            "updated_at": f.updated_at.isoformat(),
        }
        for f in figures
    ]
    return {
        "queues": sorted(queues, key=lambda q: (q["tenant_id"], q["queue_id"])),
        "agents": [
            {
                **profile(a),
                "state_since": a.state_since.isoformat(),
                "contacts": len(holding[a.agent_id]),
                "on_call": next(
                    (c.contact_id for c in holding[a.agent_id] if c.channel == "phone"), None
                ),
            }
            for a in sorted(agents, key=lambda a: a.agent_id)
        ],
    }
