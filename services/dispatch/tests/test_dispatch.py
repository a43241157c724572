"""Dispatch's handlers and loop on the in-memory broker, with a controllable clock: an agent's job
request becomes one job however often it is delivered, despatched to the nearest technician with its
sheet recorded and delivered once; an unconfirmed job is re-despatched when its deadline passes; the
DNC gate's answer releases or stops a message to a customer; a job sheet a real SMTP relay refuses
for good is set aside and its job flagged, and the sheets behind it go out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from sqlmodel import select

from switchboard.common import mail, setaside
from switchboard.common.centre import CentreConfig, TenantConfig
from switchboard.common.clock import Clock
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.desktop import JobRequested
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.process import free_port
from switchboard.common.teams_config import DispatchConfig, Location, ShiftConfig, TechnicianConfig
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.dispatch import messages_store, store
from switchboard.dispatch.adapters.media import Media
from switchboard.dispatch.context import Dispatch
from switchboard.dispatch.handlers import SERVICE, subscriptions
from switchboard.dispatch.loop import Loop
from switchboard.dispatch.settings import DispatchSettings

ALWAYS = [
    ShiftConfig(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open="00:00", close="24:00")
]


def _tech(tid: str, lat: float, lon: float) -> TechnicianConfig:
    return TechnicianConfig(
        id=tid,
        name=tid,
        tenant="acme",
        skills=["electrical"],
        shifts=ALWAYS,
        home=Location(lat=lat, lon=lon),
        medium="sms",
        address=f"+6140000{tid}",
    )


def centre() -> CentreConfig:
    return CentreConfig(
        tenants=[
            TenantConfig(id="acme", name="Acme", dispatch=DispatchConfig(confirm_within_minutes=10))
        ],
        technicians=[_tech("near", -33.87, 151.21), _tech("far", -33.81, 151.00)],
    )


@dataclass
class Field:
    service: ServiceUnderTest
    loop: Loop
    offset_file: Path
    outbox_dir: Path

    def advance(self, minutes: float) -> None:
        offset = float(self.offset_file.read_text()) + minutes * 60
        self.offset_file.write_text(str(offset))

    async def deliver(self, payload: Payload, aggregate_id: str, **extra: Any) -> Envelope[Any]:
        event = Envelope.first(payload, tenant_id="acme", aggregate_id=aggregate_id, **extra)
        await self.service.deliver(event)
        return event

    async def statuses(self, job_id: str) -> list[tuple[str, str | None]]:
        return [
            (e["payload"]["status"], e["payload"]["technician_id"])
            for e in await self.service.outbox()
            if e["event_type"] == "job.status" and e["payload"]["job_id"] == job_id
        ]

    async def job(self, job_id: str) -> store.Job:
        async with await self.service.session() as session:
            job = await session.get(store.Job, job_id)
            assert job is not None
            return job


@pytest.fixture
async def field(tmp_path: Path) -> AsyncIterator[Field]:
    offset_file = tmp_path / "clock"
    offset_file.write_text("0")
    clock, holder = Clock(offset_file), {}
    media = Media(
        mailer=mail.mailer(None, tmp_path / "mail"),
        outbox=tmp_path / "outbox",
        sender="dispatch@test.invalid",
    )

    async def prepare(runtime: Any) -> None:
        holder["loop"] = loop = Loop(runtime, clock, media, tick=0.05)
        tracer = runtime.tracer_provider.get_tracer("test")
        settings = DispatchSettings(var_dir=tmp_path)
        runtime.context = Dispatch(runtime, settings, clock, loop.wake, tracer)
        async with runtime.db.session() as session:
            await store.apply_centre(session, centre())

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        yield Field(service, holder["loop"], offset_file, tmp_path / "outbox")


def _request(job_id: str = "job-1") -> JobRequested:
    start = datetime.now(UTC)
    return JobRequested.model_validate(
        {
            "job_id": job_id,
            "agent_id": "amy",
            "work_type": "meter fault",
            "skills": ["electrical"],
            "estimated_minutes": 60,
            "site": {"address": "1 George St", "lat": -33.87, "lon": 151.21},
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=6)).isoformat()},
            "customer": {"name": "Pat", "phone": "+61412345678"},
        }
    )


async def test_a_request_delivered_twice_is_one_job_despatched_and_sent_once(field: Field) -> None:
    event = Envelope.first(_request(), tenant_id="acme", aggregate_id="job-1", contact_id="c-1")
    await field.service.deliver(event)
    await field.service.deliver(event)  # at-least-once
    again = Envelope.first(_request(), tenant_id="acme", aggregate_id="job-1", contact_id="c-1")
    await field.service.deliver(again)  # the same job asked for under another event id
    assert await field.statuses("job-1") == [("created", None), ("despatched", "near")]
    job = await field.job("job-1")
    assert (job.status, job.technician_id, job.contact_id, job.requested_by) == (
        "despatched",
        "near",
        "c-1",
        "amy",
    )

    assert await field.loop.deliver_pending() == 1
    assert await field.loop.deliver_pending() == 0, "delivered once"
    [sheet] = list((field.outbox_dir / "sms").glob("*.json"))
    assert "1 George St" in sheet.read_text()


async def test_an_unconfirmed_job_is_re_despatched_when_its_deadline_passes(field: Field) -> None:
    await field.deliver(_request(), "job-1", contact_id="c-1")
    assert await field.loop.fire_due() == 0, "nothing due yet"
    field.advance(11)
    assert await field.loop.fire_due() == 1
    assert await field.statuses("job-1") == [
        ("created", None),
        ("despatched", "near"),
        ("created", None),
        ("despatched", "far"),
    ]
    job = await field.job("job-1")
    assert job.tried == ["near"]
    field.advance(11)
    await field.loop.fire_due()
    job = await field.job("job-1")
    assert job.status == "created" and job.needs_dispatcher, "nobody left to try"


async def test_the_dnc_gate_releases_or_stops_a_message_to_the_customer(field: Field) -> None:
    await field.deliver(_request(), "job-1", contact_id="c-1")
    async with await field.service.session() as session:
        session.add_all(
            [
                messages_store.CustomerNotice(
                    request_id="n-ok",
                    tenant_id="acme",
                    job_id="job-1",
                    number="+61412345678",
                    text="Your visit moved",
                ),
                messages_store.CustomerNotice(
                    request_id="n-no",
                    tenant_id="acme",
                    job_id="job-1",
                    number="+61412345678",
                    text="Your visit moved",
                ),
            ]
        )
        await session.commit()
    cleared = OutboundCleared(
        request_id="n-ok",
        channel="sms",
        number="+61412345678",
        reason="not marketing (appointment)",
    )
    blocked = OutboundBlocked(
        request_id="n-no", channel="sms", number="+61412345678", reason="on the register"
    )
    await field.deliver(cleared, "n-ok")
    await field.deliver(cleared, "n-ok")
    await field.deliver(blocked, "n-no")
    async with await field.service.session() as session:
        sent = (
            await session.exec(
                select(messages_store.Sent).where(messages_store.Sent.to == "customer")
            )
        ).all()
        log = await store.deployments(session, job_id="job-1")
    assert [(s.address, s.text) for s in sent] == [("+61412345678", "Your visit moved")]
    assert log[-1].action == "customer_not_told" and "on the register" in log[-1].reason


class Relay:
    """Takes mail, except for addresses that start with `gone`."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: SmtpEnvelope,
        address: str,
        options: list[str],
    ) -> str:
        if address.startswith("gone"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope.original_content or b"")
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler, port = Relay(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def _by_email(field: Field, job_id: str, address: str, subject: str) -> None:
    async with field.service.runtime.db.session() as session:
        [sent] = (
            await session.exec(
                select(messages_store.Sent).where(messages_store.Sent.job_id == job_id)
            )
        ).all()
        sent.medium, sent.address, sent.subject = "email", address, subject
        session.add(sent)


async def test_a_sheet_refused_for_good_is_set_aside_and_the_next_goes_out(
    field: Field, relay: tuple[Relay, int]
) -> None:
    handler, port = relay
    field.loop.media = Media(
        mail.mailer(f"127.0.0.1:{port}", field.outbox_dir),
        field.outbox_dir,
        "dispatch@test.invalid",
    )
    for job_id in ("job-1", "job-2"):
        await field.deliver(_request(job_id), job_id, contact_id=f"c-{job_id}")
    await _by_email(field, "job-1", "gone@field.example", "Job sheet")
    await _by_email(field, "job-2", "near@field.example", "Job: repair\u2028now")

    assert await field.loop.deliver_pending() == 2

    [sheet] = handler.received
    message: Any = message_from_bytes(sheet, policy=policy.default)
    assert message["To"] == "near@field.example" and message["Subject"] == "Job: repair now"
    async with await field.service.session() as session:
        [held] = await setaside.listed(session)
        pending = await messages_store.undelivered(session, limit=10)
    assert (held.loop, held.ref, held.row) == ("dispatch.delivery", held.ref, None)
    assert "550" in held.reason and "No such mailbox" in held.reason
    assert pending == [], "the refused sheet is not tried again in front of the others"
    assert (await field.job("job-1")).needs_dispatcher
    assert not (await field.job("job-2")).needs_dispatcher
    assert await field.loop.deliver_pending() == 0
