"""What every agent command shares: the signed-in agent, the contacts they may see and hold, and
one command's shape (a transaction, the agent's claim on the contact checked, a span of the
contact's trace, the events it emits continuing that trace).

Tenancy: a contact of a tenant the agent does not serve is answered 404, as if it did not exist.
A command on a contact the agent may see but does not hold (someone else's, or already wrapped)
gets 403 or 409 with the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import Envelope, P
from switchboard.common.origin import Origin
from switchboard.common.runtime import Runtime, Transaction, runtime_of
from switchboard.desktop import domain, security, store
from switchboard.desktop.context import Desktop


async def current_agent(request: Request) -> store.DesktopAgent:
    """FastAPI dependency: the signed-in agent, or 401 (no token, a forged one, an expired one)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.query_params.get("token", "")  # EventSource cannot send headers
    if not token:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    desktop = Desktop.of(request)
    try:
        claims = security.verify(desktop.session_key.key, token.strip())
    except security.InvalidToken as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    async with desktop.runtime.db.reader() as session:
        agent = await session.get(store.DesktopAgent, claims.agent_id)
    if agent is None:
        raise HTTPException(401, "no such agent any more", headers={"WWW-Authenticate": "Bearer"})
    return agent


Agent = Annotated[store.DesktopAgent, Depends(current_agent)]


def profile(agent: store.DesktopAgent) -> dict[str, Any]:
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


async def contact_of(
    session: AsyncSession, agent: store.DesktopAgent, contact_id: str
) -> store.DesktopContact:
    contact = await session.get(store.DesktopContact, contact_id)
    if contact is None or not agent.serves(contact.tenant_id):
        raise HTTPException(404, "no such contact")
    return contact


async def my_assignment(
    tx: Transaction, agent: store.DesktopAgent, contact_id: str
) -> store.DesktopContact:
    contact = await contact_of(tx.session, agent, contact_id)
    refused = domain.refusal(contact.holding, agent.agent_id)
    if refused is not None:
        raise HTTPException(*refused)
    return contact


def origin_of(contact: store.DesktopContact) -> Origin:
    """Where the contact's chain stands for a command on it."""
    return Origin(
        contact.tenant_id,
        contact.contact_id,
        contact.correlation_id,
        contact.correlation_id,
        contact.trace_parent,
    )


def about_contact(
    contact: store.DesktopContact, payload: P, *, aggregate_id: str | None = None
) -> Envelope[P]:
    return origin_of(contact).event(payload, aggregate_id=aggregate_id)


def in_contact_trace(
    runtime: Runtime, contact: store.DesktopContact, name: str
) -> contextlib.AbstractContextManager[None]:
    """The agent's command as a span of the contact's trace, so what it emits continues it."""
    tracer = runtime.tracer_provider.get_tracer("switchboard.desktop")
    return origin_of(contact).span(tracer, name)


@contextlib.asynccontextmanager
async def command(
    request: Request, agent: store.DesktopAgent, contact_id: str, span: str, *, held: bool = True
) -> AsyncIterator[tuple[Transaction, store.DesktopContact]]:
    """One command on a contact, in one transaction: the contact the agent holds (or, `held`
    False, one they may see), inside a span of the contact's trace named `span`."""
    runtime = runtime_of(request)
    async with runtime.transaction() as tx:
        if held:
            contact = await my_assignment(tx, agent, contact_id)
        else:
            contact = await contact_of(tx.session, agent, contact_id)
        with in_contact_trace(runtime, contact, span):
            yield tx, contact
