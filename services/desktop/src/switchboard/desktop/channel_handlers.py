"""The desktop and the channels: the Do Not Call gate's answers, replies sent (an email by the
desktop's mailer), chat lines and activity, and callbacks' results."""

from __future__ import annotations

from typing import Any

from switchboard.common import mail as outgoing
from switchboard.common import topics
from switchboard.common.envelope import Envelope
from switchboard.common.events.channels import (
    CallbackResult,
    CallControl,
    ChatActivity,
    ChatMessage,
)
from switchboard.common.events.desktop import ReplySent
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.runtime import Transaction
from switchboard.common.subscriptions import Handlers
from switchboard.desktop import mail, store
from switchboard.desktop.context import Desktop
from switchboard.desktop.delivery import contact_for, tell

handlers = Handlers()


@handlers.on(topics.OUTBOUND_CLEARED)
async def on_outbound_cleared(event: Envelope[OutboundCleared], tx: Transaction) -> None:
    """The gate's answer is told to the agent; a reply it cleared is sent now, and only now counts
    as a reply: an SMS or a fax goes to the channel system (intake hands the `contact.replied` on),
    a call back is dialled from the agent's extension (`call.control`)."""
    await _outbound_answer(tx, event.payload.request_id, "cleared", event.payload.reason)
    asked = await tx.session.get(store.OutboundByAgent, event.payload.request_id)
    if asked is None or asked.channel not in ("sms", "fax", "call"):
        return  # another requester's, or a request from before replies were kept
    sent = ReplySent(
        agent_id=asked.agent_id,
        channel="phone" if asked.channel == "call" else asked.channel,
        to=event.payload.number,
        text=asked.text or "",
        outbound_request_id=asked.request_id,
    )
    if asked.channel == "call":
        agent = await tx.session.get(store.DesktopAgent, asked.agent_id)
        if agent is None or not agent.extension:
            reason = "you have no phone extension to call from: ask a team leader"
            await _outbound_answer(tx, asked.request_id, "not_dialled", reason)
            return
        dial = CallControl(
            command_id=asked.request_id,
            call_id=f"reply:{asked.request_id}",
            action="dial",
            extension=agent.extension,
            target=event.payload.number,
            requested_by=f"agent {asked.agent_id}",
            agent_id=asked.agent_id,
        )
        await tx.emit(event.follow(dial, aggregate_id=asked.contact_id))
    await tx.emit(event.follow(sent, aggregate_id=asked.contact_id))


@handlers.on(topics.OUTBOUND_BLOCKED)
async def on_outbound_blocked(event: Envelope[OutboundBlocked], tx: Transaction) -> None:
    await _outbound_answer(tx, event.payload.request_id, "blocked", event.payload.reason)


async def _outbound_answer(tx: Transaction, request_id: str, decision: str, reason: str) -> None:
    """The DNC gate's answer to an agent's call or fax, told to that agent."""
    asked = await tx.session.get(store.OutboundByAgent, request_id)
    if asked is None:
        return  # another requester's (a campaign, dispatch)
    data = {
        "request_id": request_id,
        "contact_id": asked.contact_id,
        "decision": decision,
        "reason": reason,
    }
    await tell(tx, asked.agent_id, "outbound", data)


@handlers.on(topics.CONTACT_REPLIED)
async def on_contact_replied(event: Envelope[ReplySent], tx: Transaction) -> None:
    """An email reply is sent once its event is committed: at least once, and as the same message
    (the same Message-ID) every time, which mail systems and the sink treat as one."""
    reply = event.payload
    contact = await tx.session.get(store.DesktopContact, event.aggregate_id)
    if contact is not None and contact.replied_at is None:
        contact.replied_at = event.occurred_at
        tx.session.add(contact)
    if contact is not None and reply.channel == "chat":
        await _chat_line(
            tx,
            contact,
            event.event_id,
            {"from": "agent", "agent_id": reply.agent_id, "text": reply.text},
        )
    if reply.channel != "email":
        return
    sender = contact.destination if contact and contact.destination else "noreply@localhost"
    await outgoing.send(Desktop.of(tx).mailer, mail.compose(reply, sender=sender))


async def _chat_line(
    tx: Transaction, contact: store.DesktopContact, line_id: str, line: dict[str, Any]
) -> None:
    """A chat line on the contact's transcript (once), told to whoever holds the contact."""
    transcript = list(contact.transcript or [])
    if any(entry.get("id") == line_id for entry in transcript):
        return
    transcript.append({"id": line_id, **line})
    contact.transcript = transcript
    tx.session.add(contact)
    for agent_id in {contact.agent_id, *(contact.also_held or [])} - {None}:
        await tell(tx, str(agent_id), "chat", {"contact_id": contact.contact_id, **line})


@handlers.on(topics.CHAT_MESSAGE)
async def on_chat_message(event: Envelope[ChatMessage], tx: Transaction) -> None:
    message = event.payload
    contact = await contact_for(tx, event)
    line = {
        "from": "customer",
        "seq": message.seq,
        "text": message.text,
        "at": message.at.isoformat(),
    }
    await _chat_line(tx, contact, event.event_id, line)


@handlers.on(topics.CHAT_ACTIVITY)
async def on_chat_activity(event: Envelope[ChatActivity], tx: Transaction) -> None:
    """The customer typing, gone, back, or shown the agent's message: told to the agent."""
    activity = event.payload
    if activity.by != "customer":
        return
    contact = await tx.session.get(store.DesktopContact, event.about_contact_id)
    if contact is None or contact.agent_id is None or contact.status != "assigned":
        return
    data = {"contact_id": contact.contact_id, "kind": activity.kind, "seq": activity.seq}
    await tell(tx, contact.agent_id, "chat_activity", data)


@handlers.on(topics.CALLBACK_RESULT)
async def on_callback_result(event: Envelope[CallbackResult], tx: Transaction) -> None:
    result = event.payload
    if result.agent_id:
        data = {**result.model_dump(mode="json"), "contact_id": event.about_contact_id}
        await tell(tx, result.agent_id, "callback", data)
