"""The Do Not Call gate as routing runs it: each outbound request is decided by the rules in
switchboard.common.compliance and the decision recorded, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.compliance import register
from switchboard.common.compliance.dnc import Decision, Request, blocked
from switchboard.common.db import is_transient
from switchboard.common.envelope import Envelope, utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared, OutboundRequested
from switchboard.common.phone import e164


async def _check_failing_closed(session: AsyncSession, request: Request) -> Decision:
    """The register's answer; a register that cannot be read blocks (the read runs in a savepoint,
    so the decision can still be recorded). A database that is down altogether fails the whole
    transaction instead: the request is redelivered, and nothing is cleared meanwhile."""
    try:
        async with session.begin_nested():
            return await register.check(session, request)
    except SQLAlchemyError as error:
        if is_transient(error):
            raise
        return blocked(f"the register could not be read ({type(error).__name__})")


async def read_ahead(session: AsyncSession, events: Iterable[Envelope[Any]]) -> None:
    """The register's facts for a batch's outbound requests, read before its handlers run (see
    `register.read_ahead`). A register that cannot be read here leaves each request to read it
    alone, and fail closed alone."""
    wanted = []
    for event in events:
        if isinstance(event.payload, OutboundRequested):
            try:
                wanted.append((event.tenant_id, e164(event.payload.number)))
            except InvalidInput:
                continue  # blocked with the reason by its handler
    if not wanted:
        return
    try:
        async with session.begin_nested():
            await register.read_ahead(session, wanted)
    except SQLAlchemyError as error:
        if is_transient(error):
            raise


async def decide_outbound(
    session: AsyncSession, event: Envelope[OutboundRequested]
) -> OutboundCleared | OutboundBlocked:
    wanted = event.payload
    request = Request(
        tenant_id=event.tenant_id,
        number=wanted.number[:20],
        channel=wanted.channel,
        purpose=wanted.purpose,
        at=wanted.not_before or utcnow(),
        time_zone=wanted.time_zone,
    )
    decision: Decision
    try:
        request = Request(**{**vars(request), "number": e164(wanted.number)})
    except InvalidInput as error:
        decision = blocked(error.reason)
    else:
        read = register.decided_from_read_ahead(session, request)
        decision = read or await _check_failing_closed(session, request)
    await register.record_decision(
        session, request_id=wanted.request_id, request=request, decision=decision
    )
    answer = OutboundCleared if decision.cleared else OutboundBlocked
    return answer(
        request_id=wanted.request_id,
        channel=wanted.channel,
        number=request.number,
        reason=decision.reason,
    )
