"""What intake hands back to channel systems: call-control commands for the telephony platform
(`call.route`, `call.control`), and agents' SMS and fax replies for the SMS gateway and the fax
server.

Each goes to the tenant's channel system's webhook (`control_url`, `send_url`), signed with that
system's secret exactly as the system signs what it sends us (switchboard.common.signing), and
carrying its own id so a platform can tell a repeat; a failure is retried a few times with a
pause that grows. Without a webhook (the embedded default) each is written as one JSON file named
by its id under `<var>/call-control/`, `<var>/sms-outbox/` or `<var>/fax-outbox/`, where a test or
an operator reads it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import structlog

from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import ReplySent
from switchboard.common.runtime import Transaction
from switchboard.common.signing import signed_headers
from switchboard.common.tls import client_tls
from switchboard.intake import store
from switchboard.intake.settings import IntakeSettings

log = structlog.get_logger("switchboard.intake.egress")
OUTCOMES = ("connected", "answered", "no_answer", "busy", "failed", "delivered")
FOLDERS = {"phone": "call-control", "sms": "sms-outbox", "fax": "fax-outbox"}
"""Where each channel's commands or messages are written when its system has no webhook."""


@dataclass(frozen=True)
class Handed:
    """How handing one thing on went: the outcome, after how many attempts, and why."""

    outcome: str
    attempts: int
    reason: str = ""


async def deliver_once(
    tx: Transaction,
    settings: IntakeSettings,
    *,
    tenant_id: str,
    channel: str,
    item_id: str,
    kind: str,
    body: dict[str, Any],
) -> Handed | None:
    """Hand `body` to the tenant's `channel` system (its call-control or send webhook), once: a
    redelivered event finds the record and gets None; otherwise how it went, recorded."""
    if await tx.session.get(store.Delivery, item_id) is not None:
        return None
    system = await store.system_for(tx.session, tenant_id=tenant_id, channel=channel)
    url = (system.control_url if channel == "phone" else system.send_url) if system else None
    handed = await hand_on(
        system,
        url,
        folder=settings.var_dir / FOLDERS[channel],
        item_id=item_id,
        body=body,
        attempts=settings.intake_egress_attempts,
        pause_seconds=settings.intake_egress_pause_seconds,
        timeout_seconds=settings.intake_egress_timeout_seconds,
    )
    tx.session.add(
        store.Delivery(
            delivery_id=item_id,
            kind=kind,
            tenant_id=tenant_id,
            outcome=handed.outcome,
            attempts=handed.attempts,
            detail=handed.reason[:500],
        )
    )
    return handed


async def send_reply(tx: Transaction, settings: IntakeSettings, event: Envelope[ReplySent]) -> None:
    """Hand an agent's SMS or fax reply, cleared by the Do Not Call gate, to the tenant's channel
    system (its `send_url`), once: a redelivered event finds its record."""
    reply = event.payload
    item_id = reply.outbound_request_id or event.event_id
    own = await store.own_address(tx.session, tenant_id=event.tenant_id, channel=reply.channel)
    body = {
        "message_id": item_id,
        "channel": reply.channel,
        "from": own,
        "to": reply.to,
        "text": reply.text,
        "contact_id": event.about_contact_id,
    }
    await deliver_once(
        tx,
        settings,
        tenant_id=event.tenant_id,
        channel=reply.channel,
        item_id=item_id,
        kind=reply.channel,
        body=body,
    )


async def hand_on(
    system: store.ChannelSystem | None,
    url: str | None,
    *,
    folder: Path,
    item_id: str,
    body: dict[str, Any],
    attempts: int,
    pause_seconds: float,
    timeout_seconds: float,
) -> Handed:
    """Deliver `body` to `url` signed by `system`, or drop it in `folder` when there is no URL.
    The platform may answer with `{"outcome": ...}` (a dial: answered, no_answer, busy)."""
    data = json.dumps(body, sort_keys=True).encode()
    if system is None or not url:
        await asyncio.to_thread(_drop, folder, item_id, data)
        return Handed("delivered", 1)
    reason = ""
    for attempt in range(1, attempts + 1):
        try:
            async with httpx.AsyncClient(timeout=timeout_seconds, verify=client_tls()) as client:
                answer = await client.post(
                    url,
                    content=data,
                    headers={
                        "Content-Type": "application/json",
                        "Idempotency-Key": item_id,
                        **signed_headers(system.id, system.secret, data),
                    },
                )
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}: {error}"[:300]
        else:
            if answer.is_success:
                return Handed(_stated_outcome(answer), attempt)
            reason = f"HTTP {answer.status_code}: {answer.text[:200]}"
            if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
                return Handed("failed", attempt, reason)  # refused: asking again changes nothing
        if attempt < attempts:
            await asyncio.sleep(pause_seconds * 2 ** (attempt - 1))
    log.warning("channel system did not take it", item_id=item_id, reason=reason)
    return Handed("failed", attempts, reason)


def _stated_outcome(answer: httpx.Response) -> str:
    try:
        stated = answer.json().get("outcome")
    except (ValueError, AttributeError):
        stated = None
    return stated if stated in OUTCOMES else "connected"


def _drop(folder: Path, item_id: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in item_id)
    partial = folder / f".{safe}.partial"
    partial.write_bytes(data)
    partial.replace(folder / f"{safe}.json")
