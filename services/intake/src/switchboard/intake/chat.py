"""Web chat: the customer's widget talks to intake over a WebSocket (`/v1/chat/ws`).

A chat is one contact. Its first message makes the contact (`contact.received`, channel `chat`);
later ones are `chat.message`; the agent's answers arrive as `contact.replied` and are put in the
window. Every line is numbered and stored before it is acknowledged or shown, so a window that
reconnects (`hello` with its session, secret and the last number it saw) is sent what it missed
and nothing twice. The customer's browser confirms each agent message it shows (`delivered`), and
typing is passed both ways. Frames are size-limited and messages rate-limited per open window.

Frames, all JSON objects with a `type`:
- in:  hello {entry, session?, secret?, after?, name?, email?}, message {id, text}, typing,
  delivered {seq}
- out: welcome {session, secret?}, line {seq, from, text, at}, ack {id, seq}, typing {by},
  error {reason}
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.compliance.pii import mask_sensitive
from switchboard.common.envelope import Envelope, Payload, utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.events.channels import ChatActivity, ChatMessage
from switchboard.common.events.intake import ChatDetails, ContactReceived, Party
from switchboard.common.ids import new_id
from switchboard.common.runtime import Transaction
from switchboard.intake import store
from switchboard.intake.accept import NewContact, Outcome, accept_contact
from switchboard.intake.chat_windows import RateLimit
from switchboard.intake.context import Intake
from switchboard.intake.domain import resolve_tenant

router = APIRouter(tags=["chat"])
POLL_SECONDS = 2.0
"""A window also looks for news this often: an agent's answer may land on another replica."""


@router.websocket("/v1/chat/ws")
async def chat_socket(socket: WebSocket) -> None:
    intake = Intake.of(socket)
    await socket.accept()
    try:
        hello = await _frame(socket, intake)
        chat, secret = await _open(intake, hello)
    except InvalidInput as error:
        await _refuse(socket, error.reason)
        return
    except WebSocketDisconnect:
        return
    welcome: dict[str, Any] = {"type": "welcome", "session": chat.session_id}
    if secret is not None:
        welcome["secret"] = secret
    await socket.send_json(welcome)
    after = hello["after"] if isinstance(hello.get("after"), int) else 0
    hub = intake.chats
    async with hub.window(chat.session_id) as news:
        if secret is None:
            await _activity(intake, chat.session_id, "resumed")
        sender = asyncio.create_task(_show(socket, intake, chat.session_id, after, news))
        try:
            await _listen(socket, intake, chat.session_id)
        except WebSocketDisconnect:
            await _activity(intake, chat.session_id, "left")
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


async def _refuse(socket: WebSocket, reason: str, code: int = 1008) -> None:
    with contextlib.suppress(Exception):
        await socket.send_json({"type": "error", "reason": reason})
        await socket.close(code=code, reason=reason[:120])


async def _frame(socket: WebSocket, intake: Intake) -> dict[str, Any]:
    text = await socket.receive_text()
    if len(text.encode()) > intake.settings.intake_chat_max_frame_bytes:
        raise InvalidInput(
            f"a frame is limited to {intake.settings.intake_chat_max_frame_bytes} bytes"
        )
    try:
        frame = json.loads(text)
    except ValueError:
        raise InvalidInput("a frame must be JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise InvalidInput("a frame must be a JSON object with a type")
    return frame


def _text(frame: dict[str, Any], name: str, limit: int) -> str | None:
    value = frame.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} must be text of at most {limit} characters")
    return value.strip() or None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _open(intake: Intake, hello: dict[str, Any]) -> tuple[store.ChatSession, str | None]:
    """The chat `hello` resumes (with its secret), or a new one at the page's entry point."""
    if hello["type"] != "hello":
        raise InvalidInput("the first frame must be hello")
    session_id, secret = _text(hello, "session", 36), _text(hello, "secret", 100)
    if session_id is not None:
        async with intake.runtime.db.reader() as session:
            chat = await session.get(store.ChatSession, session_id)
        if (
            chat is None
            or secret is None
            or not hmac.compare_digest(chat.secret_sha256, _digest(secret))
        ):
            raise InvalidInput("no such chat, or not yours")
        if chat.ended_at is not None:
            raise InvalidInput("this chat has ended: start a new one")
        return chat, None
    entry = (_text(hello, "entry", 320) or "").lower()
    known = await intake.directory.destinations("chat", [entry])
    if entry not in known:
        raise InvalidInput(f"no chat entry point {entry!r}: the page's data-entry names none")
    tenant_id, entry = resolve_tenant([entry], known, system_tenant=None)
    secret = secrets.token_urlsafe(24)
    chat = store.ChatSession(
        session_id=new_id(),
        tenant_id=tenant_id,
        entry=entry,
        secret_sha256=_digest(secret),
        customer_name=_text(hello, "name", 200),
        customer_email=_text(hello, "email", 320),
    )
    async with intake.runtime.db.session() as session:
        session.add(chat)
    return chat, secret


async def _listen(socket: WebSocket, intake: Intake, session_id: str) -> None:
    settings = intake.settings
    limit = RateLimit(settings.intake_chat_burst, settings.intake_chat_messages_per_second)
    typed_at = 0.0
    while True:
        try:
            frame = await _frame(socket, intake)
        except InvalidInput as error:
            await socket.send_json({"type": "error", "reason": error.reason})
            continue
        kind = frame["type"]
        try:
            if kind == "message":
                text = _text(frame, "text", settings.intake_chat_max_message_chars)
                message_id = _text(frame, "id", 64)
                if not text or not message_id:
                    raise InvalidInput("a message needs an id and some text")
                seq = await customer_said(intake, session_id, text, message_id, limit)
                await socket.send_json({"type": "ack", "id": message_id, "seq": seq})
            elif kind == "typing" and time.monotonic() - typed_at > 3:
                typed_at = time.monotonic()
                await _activity(intake, session_id, "typing")
            elif kind == "delivered" and isinstance(frame.get("seq"), int):
                await _delivered(intake, session_id, frame["seq"])
        except InvalidInput as error:
            await socket.send_json({"type": "error", "reason": error.reason})


async def _show(
    socket: WebSocket,
    intake: Intake,
    session_id: str,
    after: int,
    news: asyncio.Queue[dict[str, Any]],
) -> None:
    """Send the window every line after the last it saw, then each new one as it comes."""
    while True:
        async with intake.runtime.db.reader() as session:
            lines = await store.chat_lines(session, session_id=session_id, after=after)
        for line in lines:
            await socket.send_json(
                {
                    "type": "line",
                    "seq": line.seq,
                    "from": line.sender,
                    "text": line.text,
                    "at": line.at.isoformat(),
                }
            )
            after = line.seq
        with contextlib.suppress(TimeoutError):
            note = await asyncio.wait_for(news.get(), POLL_SECONDS)
            if note.get("type") in ("typing", "ended"):
                await socket.send_json(note)


async def customer_said(
    intake: Intake, session_id: str, text: str, message_id: str, limit: RateLimit
) -> int:
    """Store the customer's message (once per id) and publish it: the chat's first message makes
    the contact, in the same transaction as its line. Returns the line's number. A message the
    window sends again is answered with its number and not counted by `limit`; a new one over
    the limit is refused."""
    masked = mask_sensitive(text)
    source_id = f"c:{session_id}:{message_id}"[:64]
    numbered: list[int] = []

    async def write_line(session: AsyncSession, contact_id: str) -> None:
        seq = await store.next_chat_seq(session, session_id=session_id)
        row = await session.get(store.ChatSession, session_id)
        assert row is not None
        row.contact_id = contact_id
        session.add(row)
        session.add(
            store.ChatLine(
                session_id=session_id,
                seq=seq,
                sender="customer",
                text=masked.text,
                source_id=source_id,
            )
        )
        numbered.append(seq)

    async with intake.chats.locks[session_id]:  # one message of a chat at a time, in order
        async with intake.runtime.db.reader() as session:
            chat = await session.get(store.ChatSession, session_id)
            seen = await store.chat_line_from(session, source_id=source_id)
        assert chat is not None
        if seen is not None:
            return seen  # the window sent it again (it did not see our ack)
        if not limit.allow():
            raise InvalidInput("too many messages at once: wait a moment and send again")
        if chat.ended_at is not None:
            raise InvalidInput("this chat has ended: start a new one")
        if chat.contact_id is None:
            await _first_message(intake, chat, masked.text, masked.kinds, write_line)
        else:
            async with intake.runtime.transaction() as tx:
                await write_line(tx.session, chat.contact_id)
                message = ChatMessage(
                    session_id=session_id, seq=numbered[-1], text=masked.text, at=utcnow()
                )
                await _emit(tx, chat, message)
    intake.chats.tell(session_id, {"type": "news"})
    return numbered[-1]


async def _first_message(
    intake: Intake, chat: store.ChatSession, text: str, masked: list[str], write_line: Any
) -> Outcome:
    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel="chat",
            conversation_id=conversation_id,
            received_at=utcnow(),
            destination=chat.entry,
            external_id=chat.session_id,
            customer=Party(name=chat.customer_name, email=chat.customer_email),
            text=text,
            chat=ChatDetails(session_id=chat.session_id),
            masked=masked,
        )

    async def within(session: AsyncSession, outcome: Outcome) -> None:
        await write_line(session, outcome.contact_id)

    return await accept_contact(
        intake.runtime,
        NewContact(
            tenant_id=chat.tenant_id,
            channel="chat",
            external_id=chat.session_id,
            payload=payload,
            customer_address=chat.customer_email or "",
            within=within,
        ),
    )


async def _emit(tx: Transaction, chat: store.ChatSession, payload: Payload) -> None:
    """An event of the chat's contact, in the contact's chain (correlated to its first event)."""
    assert chat.contact_id is not None
    receipt = await store.find_receipt(
        tx.session, tenant_id=chat.tenant_id, channel="chat", external_id=chat.session_id
    )
    await tx.emit(
        Envelope.first(
            payload,
            tenant_id=chat.tenant_id,
            aggregate_id=chat.contact_id,
            contact_id=chat.contact_id,
            correlation_id=receipt.event_id if receipt else None,
        )
    )


async def _activity(intake: Intake, session_id: str, kind: str, seq: int | None = None) -> None:
    async with intake.runtime.transaction() as tx:
        chat = await tx.session.get(store.ChatSession, session_id)
        if chat is None or chat.contact_id is None:
            return  # nobody to tell before the first message
        await _emit(
            tx, chat, ChatActivity(session_id=session_id, kind=kind, by="customer", seq=seq)
        )


async def _delivered(intake: Intake, session_id: str, seq: int) -> None:
    async with intake.runtime.db.session() as session:
        line = await session.get(store.ChatLine, (session_id, seq))
        if line is None or line.sender != "agent" or line.delivered_at is not None:
            return
        line.delivered_at = utcnow()
        session.add(line)
    await _activity(intake, session_id, "delivered", seq)


async def agent_said(
    tx: Transaction, intake: Intake, *, contact_id: str, event_id: str, agent_id: str, text: str
) -> None:
    """The agent's answer joins the chat's lines; the customer's window is told once committed."""
    chat = await store.chat_of_contact(tx.session, contact_id=contact_id)
    if (
        chat is None
        or await store.chat_line_from(tx.session, source_id=f"a:{event_id}") is not None
    ):
        return
    seq = await store.next_chat_seq(tx.session, session_id=chat.session_id)
    tx.session.add(
        store.ChatLine(
            session_id=chat.session_id,
            seq=seq,
            sender="agent",
            text=text,
            source_id=f"a:{event_id}",
            agent_id=agent_id,
        )
    )
    session_id = chat.session_id
    tx.after_commit(lambda: intake.chats.tell(session_id, {"type": "news"}))


async def ended(tx: Transaction, intake: Intake, chat: store.ChatSession) -> None:
    """The agent closed the chat: the window is told, and a new message starts a new chat."""
    if chat.ended_at is None:
        chat.ended_at = utcnow()
        tx.session.add(chat)
    session_id = chat.session_id
    tx.after_commit(lambda: intake.chats.tell(session_id, {"type": "ended"}))


def agent_typing(intake: Intake, session_id: str) -> None:
    intake.chats.tell(session_id, {"type": "typing", "by": "agent"})
