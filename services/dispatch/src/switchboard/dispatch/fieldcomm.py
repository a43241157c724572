"""Communications to field staff: a message to technicians or teams; the tenant's approval policy
decides whether it must be approved first; once sent, each recipient's response (acknowledged,
declined, an ETA) is tracked and those who have not answered are chased."""

from __future__ import annotations

from datetime import datetime, timedelta

from switchboard.common.errors import Refused
from switchboard.common.events.dispatch import FieldMessageChanged, FieldResponse
from switchboard.common.ids import new_id
from switchboard.common.origin import Origin
from switchboard.common.runtime import Transaction
from switchboard.dispatch import domain, messages_store, notices, store


class MessageError(Refused):
    """A request the message's state or the policy does not allow."""


def policy_of(tenant: store.DispatchTenant) -> domain.ApprovalPolicy:
    approval = tenant.config.approval
    return domain.ApprovalPolicy(
        kinds=frozenset(approval.kinds),
        broadcast_over=approval.broadcast_over,
        approvers=frozenset(approval.approvers),
    )


async def _emit(
    tx: Transaction,
    message: messages_store.FieldMessage,
    payload: FieldMessageChanged | FieldResponse,
) -> None:
    chain = Origin(message.tenant_id, None, message.correlation_id, message.correlation_id, None)
    await tx.emit(chain.event(payload, aggregate_id=message.message_id))


async def _changed(
    tx: Transaction, message: messages_store.FieldMessage, *, actor: str, reason: str = ""
) -> None:
    recipients = [
        r.technician_id
        for r in await messages_store.recipients(tx.session, message_id=message.message_id)
    ]
    await _emit(
        tx,
        message,
        FieldMessageChanged(
            message_id=message.message_id,
            kind=message.kind,
            status=message.status,
            recipients=recipients,
            actor=actor,
            reason=reason,
        ),
    )


async def create(
    tx: Transaction,
    tenant_id: str,
    *,
    kind: str,
    subject: str,
    body: str,
    author: str,
    technicians: list[str],
    teams: list[str],
    now: datetime,
) -> messages_store.FieldMessage:
    tenant = await store.tenant(tx.session, tenant_id=tenant_id)
    staff = await store.technicians(tx.session, tenant_id=tenant_id)
    known = {t.technician_id for t in staff}
    unknown = sorted(set(technicians) - known)
    if unknown:
        raise MessageError(f"no technician {', '.join(unknown)}")
    named = set(technicians) | {t.technician_id for t in staff if set(t.teams) & set(teams)}
    if not named:
        raise MessageError("the message has no recipients (name technicians or teams with members)")
    message = messages_store.FieldMessage(
        message_id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        subject=subject,
        body=body,
        author=author,
        status="pending_approval",
        created_at=now,
        correlation_id=new_id(),
        chase_after_minutes=tenant.config.chase_after_minutes,
    )
    tx.session.add(message)
    for technician_id in sorted(named):
        tx.session.add(
            messages_store.Recipient(message_id=message.message_id, technician_id=technician_id)
        )
    await tx.session.flush()
    needed = domain.approval_needed(kind, len(named), policy_of(tenant))
    if needed:
        message.approval_reason = needed
        await _changed(tx, message, actor=author, reason=needed)
    else:
        await _send(tx, message, now=now, actor=author)
    return message


async def decide(
    tx: Transaction,
    message: messages_store.FieldMessage,
    *,
    approver: str,
    approve: bool,
    reason: str,
    now: datetime,
) -> None:
    if message.status != "pending_approval":
        raise MessageError(f"the message is {message.status}, not waiting for approval")
    tenant = await store.tenant(tx.session, tenant_id=message.tenant_id)
    refused = domain.may_approve(approver, message.author, policy_of(tenant))
    if refused:
        raise MessageError(refused)
    message.decided_by, message.decision_reason = approver, reason or None
    if not approve:
        message.status = "rejected"
        await _changed(tx, message, actor=approver, reason=reason)
        return
    message.status = "approved"
    await _changed(tx, message, actor=approver, reason=reason)
    await _send(tx, message, now=now, actor=approver)


async def _send(
    tx: Transaction, message: messages_store.FieldMessage, *, now: datetime, actor: str
) -> None:
    for recipient in await messages_store.recipients(tx.session, message_id=message.message_id):
        tech = await tx.session.get(store.Technician, recipient.technician_id)
        assert tech is not None
        notices.send(
            tx, tech, message.subject, _text(message), message_id=message.message_id, now=now
        )
    message.status, message.sent_at = "sent", now
    tx.session.add(message)
    _chase_later(tx, message, now)
    await _changed(tx, message, actor=actor)


def _chase_later(tx: Transaction, message: messages_store.FieldMessage, now: datetime) -> None:
    """Those who have not answered by `chase_after_minutes` from now are reminded."""
    due_at = now + timedelta(minutes=message.chase_after_minutes)
    tx.session.add(
        store.Deadline(
            tenant_id=message.tenant_id, kind="chase", ref=message.message_id, due_at=due_at
        )
    )


def _text(message: messages_store.FieldMessage, *, reminder: bool = False) -> str:
    head = "REMINDER - no answer yet.\n" if reminder else ""
    return f"{head}{message.body}\n\nReply ACK to acknowledge, DECLINE, or ETA <minutes>."


async def respond(
    tx: Transaction,
    message: messages_store.FieldMessage,
    technician_id: str,
    response: str,
    eta_minutes: int | None,
    *,
    now: datetime,
) -> None:
    if message.status != "sent":
        raise MessageError(f"the message is {message.status}; there is nothing to answer yet")
    recipient = await tx.session.get(messages_store.Recipient, (message.message_id, technician_id))
    if recipient is None:
        raise MessageError(f"{technician_id} is not a recipient of this message")
    if response == "eta" and eta_minutes is None:
        raise MessageError("an ETA response needs eta_minutes")
    if (recipient.status, recipient.eta_minutes) == (response, eta_minutes):
        return  # the same answer again
    recipient.status, recipient.eta_minutes, recipient.responded_at = response, eta_minutes, now
    tx.session.add(recipient)
    await _emit(
        tx,
        message,
        FieldResponse(
            message_id=message.message_id,
            technician_id=technician_id,
            response=response,
            eta_minutes=eta_minutes,
        ),
    )


async def chase(tx: Transaction, message: messages_store.FieldMessage, *, now: datetime) -> None:
    """Remind everyone who has not answered; chase again later, up to the policy's limit."""
    tenant = await store.tenant(tx.session, tenant_id=message.tenant_id)
    silent = await messages_store.silent_recipients(tx.session, message_id=message.message_id)
    for recipient in silent:
        tech = await tx.session.get(store.Technician, recipient.technician_id)
        assert tech is not None
        recipient.chases += 1
        tx.session.add(recipient)
        notices.send(
            tx,
            tech,
            f"Reminder: {message.subject}",
            _text(message, reminder=True),
            message_id=message.message_id,
            now=now,
        )
        await _emit(
            tx,
            message,
            FieldResponse(
                message_id=message.message_id,
                technician_id=recipient.technician_id,
                response="chased",
            ),
        )
    if silent and max(r.chases for r in silent) < tenant.config.max_chases:
        _chase_later(tx, message, now)
