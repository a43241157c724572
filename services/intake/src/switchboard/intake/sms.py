"""SMS both ways. In: the gateway's signed webhook (`POST /v1/sms`), threaded into the sender's
conversation by their number when they were in touch lately. Out: an agent's reply, once the Do Not
Call gate has cleared it (its `contact.replied`), handed to the tenant's SMS gateway."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from switchboard.common.compliance.pii import mask_sensitive
from switchboard.common.envelope import utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.events.intake import ContactReceived, Party, SmsDetails
from switchboard.common.phone import e164
from switchboard.intake.accept import NewContact, Outcome, accept_contact
from switchboard.intake.channels import Sender
from switchboard.intake.context import Intake
from switchboard.intake.domain import resolve_tenant


class SmsIn(BaseModel):
    """One inbound SMS as the gateway posts it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_id: str = Field(min_length=1, max_length=200)
    sender: str = Field(alias="from", min_length=3, max_length=40)
    to: str = Field(min_length=3, max_length=40)
    text: str = Field(max_length=20_000)
    received_at: datetime | None = None


async def ingest_sms(intake: Intake, sms: SmsIn, sender: Sender) -> Outcome:
    wanted = [e164(sms.to, "AU")]
    known = await intake.directory.destinations("sms", wanted)
    tenant_id, to = resolve_tenant(wanted, known, system_tenant=sender.tenant_id)
    region = await intake.directory.region(tenant_id)
    number = e164(sms.sender, region)
    limit = intake.settings.intake_sms_max_chars
    if len(sms.text) > limit:
        raise InvalidInput(f"an SMS is limited to {limit} characters", status=413)
    text = mask_sensitive(sms.text)

    def payload(conversation_id: str) -> ContactReceived:
        return ContactReceived(
            channel="sms",
            conversation_id=conversation_id,
            received_at=sms.received_at or utcnow(),
            destination=to,
            external_id=sms.message_id,
            customer=Party(phone=number),
            text=text.text,
            sms=SmsDetails(message_id=sms.message_id, sender=number, to=to),
            masked=text.kinds,
        )

    since = utcnow() - timedelta(days=intake.settings.intake_sms_thread_days)
    return await accept_contact(
        intake.runtime,
        NewContact(
            tenant_id=tenant_id,
            channel="sms",
            external_id=sms.message_id,
            payload=payload,
            customer_address=number,
            recent_since=since,
        ),
    )
