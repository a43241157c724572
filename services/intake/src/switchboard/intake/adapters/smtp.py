"""The SMTP listener (aiosmtpd, 127.0.0.1:2525 by default): mail servers deliver to it as to any
MX. A recipient that is no tenant's receiving address is refused at RCPT; a message is answered 250
only once its event is on the broker, 451 (try later) when the broker has not acknowledged it in
time, and 5xx with the reason when it can never be a contact.

`postmaster` (bare, or at a receiving address's domain) is always accepted, as RFC 5321 requires;
mail for it alone is kept for the centre's operators in `<var>/postmaster/`, one `.eml` each."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from switchboard.common.errors import InvalidInput
from switchboard.common.mail import write_whole
from switchboard.common.outbox import EventTooLarge
from switchboard.intake.adapters.email import parse_email
from switchboard.intake.channels import Sender, ingest_email
from switchboard.intake.context import Intake

log = structlog.get_logger("switchboard.intake.smtp")


class SmtpIntake:
    """aiosmtpd handler."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        known = await self.intake.directory.destinations("email", [address])
        if address.lower() not in known and not await self._postmaster(address):
            return "550 5.1.1 Recipient address is not served here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def _postmaster(self, address: str) -> bool:
        local, _, domain = address.lower().rpartition("@") if "@" in address else (address, "", "")
        if (local or address.lower()) != "postmaster":
            return False
        return not domain or domain in await self.intake.directory.email_domains()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        settings = self.intake.settings
        if self.intake.held_back() is not None:
            return "451 4.3.0 Too many events wait for the broker; please try again later"
        recipients = [r.lower() for r in envelope.rcpt_tos]
        customers = [r for r in recipients if not await self._postmaster(r)]
        try:
            if not customers:
                name = await asyncio.to_thread(_keep_for_postmaster, settings.var_dir, raw)
                log.warning("mail for postmaster kept", file=name)
                return "250 2.0.0 Accepted for the postmaster"
            email = await self.intake.offload.run(
                parse_email,
                raw,
                max_text_chars=settings.intake_max_text_chars,
                limits=settings.email_limits,
            )
            outcome = await ingest_email(self.intake, email, Sender(None), recipients=customers)
        except InvalidInput as refusal:
            code = "552 5.3.4" if refusal.status == 413 else "554 5.6.0"
            return f"{code} {refusal.reason}"
        except EventTooLarge as refusal:
            return f"552 5.3.4 {refusal}"
        log.info(
            "email accepted over SMTP", contact_id=outcome.contact_id, duplicate=outcome.duplicate
        )
        return f"250 2.0.0 Accepted as {outcome.contact_id}"


def _keep_for_postmaster(var_dir: Path, raw: bytes) -> str:
    name = hashlib.sha256(raw).hexdigest()[:32] + ".eml"
    write_whole(var_dir / "postmaster", name, raw)
    return name


async def start_smtp(intake: Intake) -> asyncio.Server:
    handler = SmtpIntake(intake)
    settings = intake.settings

    def protocol() -> Any:
        return SMTP(
            handler,
            data_size_limit=settings.intake_max_email_bytes,
            enable_SMTPUTF8=True,
            hostname="switchboard-intake",
            ident="Switchboard intake",
        )

    return await asyncio.get_running_loop().create_server(
        protocol, host=settings.host, port=settings.smtp_port
    )
