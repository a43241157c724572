"""What an agent sends and promises, on the desktop under test: an email reply threaded under the
customer's message, a fax or call-back that is a reply only once the Do Not Call gate clears it,
follow-ups and field jobs; and an erasure that leaves no trace of the customer on the desk."""

from __future__ import annotations

import asyncio
import email
from datetime import UTC, datetime, timedelta
from typing import Any

from services.desktop.tests.desktop_under_test import Desktop, numbered_frames
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import (
    JobRequested,
    ReplySent,
)
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.events.routing import (
    ContactAssigned,
)
from switchboard.common.privacy import identity_digest
from switchboard.desktop import inbox_store, store, streams
from switchboard.desktop.context import Desktop as DesktopContext


async def test_an_email_reply_is_threaded_under_the_customers_message(desktop: Desktop) -> None:
    await desktop.assigned("a-4", "amy")
    amy = await desktop.sign_in("amy")
    answer = await desktop.http.post(
        "/v1/contacts/a-4/reply", headers=amy, json={"text": "We have refunded the charge."}
    )
    assert answer.status_code == 202, answer.text
    [event] = await desktop.outbox_of("contact.replied")
    reply = ReplySent.model_validate(event["payload"])
    assert reply.to == "jo@example.net"
    assert reply.subject == "Re: My bill is wrong [K7Q2]"
    assert reply.in_reply_to == "<a-4@mail.example.net>"
    assert reply.references == ["<older@mail.example.net>", "<a-4@mail.example.net>"]

    sent = Envelope.first(reply, tenant_id="acme", aggregate_id="a-4", contact_id="a-4")
    await desktop.service.deliver(sent)
    await desktop.service.deliver(sent)  # redelivered: the same message, one file
    [file] = list(DesktopContext.of(desktop.service.runtime).settings.mail_sink.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes())
    assert message["Message-ID"] == reply.message_id
    assert message["In-Reply-To"] == "<a-4@mail.example.net>"
    assert message["References"] == "<older@mail.example.net> <a-4@mail.example.net>"
    assert message["From"] == "help@acme.example" and message["To"] == "jo@example.net"


async def _numbered_contact_assigned(desktop: Desktop, contact_id: str, channel: str) -> None:
    received = ContactReceived(
        channel=channel,  # type: ignore[arg-type]
        conversation_id=f"conv-{contact_id}",
        received_at=datetime.now(UTC),
        destination="+61255501099",
        external_id=f"{channel}-{contact_id}",
        customer=Party(name="Jo Citizen", phone="+61412345678"),
        text="Please call me about my bill.",
    )
    await desktop.service.deliver(desktop.event(received, contact_id))
    offer_id = await desktop.offered(contact_id, "amy")
    assigned = ContactAssigned(
        offer_id=offer_id, agent_id="amy", queue_id="general", waited_seconds=3.0
    )
    await desktop.service.deliver(desktop.event(assigned, contact_id))


async def test_a_fax_or_call_back_is_a_reply_only_once_the_gate_clears_it(
    desktop: Desktop,
) -> None:
    amy = await desktop.sign_in("amy")
    answers = {}
    for contact_id, channel, text in (
        ("f-1", "fax", "Your refund is on its way."),
        ("p-1", "phone", "Calling about the refund"),
        ("f-2", "fax", "Blocked, never sent."),
    ):
        await _numbered_contact_assigned(desktop, contact_id, channel)
        answer = await desktop.http.post(
            f"/v1/contacts/{contact_id}/reply", headers=amy, json={"text": text}
        )
        assert answer.status_code == 202, answer.text
        answers[contact_id] = answer.json()["outbound_request_id"]
    assert await desktop.outbox_of("contact.replied") == [], "nothing is a reply before the gate"
    assert len(await desktop.outbox_of("outbound.requested")) == 3

    def gate(contact_id: str, channel: str, cleared: bool) -> Envelope[Any]:
        kind = OutboundCleared if cleared else OutboundBlocked
        answer = kind(
            request_id=answers[contact_id],
            channel=channel,
            number="+61412345678",
            reason="not marketing (service)" if cleared else "blocked for the test",
        )
        return desktop.event(answer, answers[contact_id])

    await desktop.service.deliver(gate("f-1", "fax", True))
    await desktop.service.deliver(gate("p-1", "call", True))
    await desktop.service.deliver(gate("f-2", "fax", False))
    replies = [
        ReplySent.model_validate(e["payload"]) for e in await desktop.outbox_of("contact.replied")
    ]
    assert [(r.channel, r.text, r.outbound_request_id) for r in replies] == [
        ("fax", "Your refund is on its way.", answers["f-1"]),
        ("phone", "Calling about the refund", answers["p-1"]),
    ]
    [dial] = await desktop.outbox_of("call.control")
    assert dial["payload"]["action"] == "dial" and dial["payload"]["extension"] == "2001"
    assert dial["payload"]["target"] == "+61412345678"
    async with await desktop.service.session() as session:
        told = await inbox_store.inbox_after(session, agent_id="amy", after=0)
    decisions = [e.data["decision"] for e in told if e.event_type == "outbound"]
    assert decisions == ["cleared", "cleared", "blocked"]


async def test_an_erasure_request_leaves_no_trace_of_the_customer_on_the_desk(
    desktop: Desktop,
) -> None:
    await desktop.assigned("e-1", "amy")
    await desktop.assigned("e-2", "bob")
    corrected = CustomerCorrected(
        field="name",
        new_value="Jo Citizen-Smith",
        reason="married",
        actor="privacy",
        contact_ids=["e-1"],
    )
    await desktop.service.deliver(Envelope.first(corrected, tenant_id="acme", aggregate_id="cu-1"))
    async with await desktop.service.session() as session:
        assert (await session.get(store.DesktopContact, "e-1")).customer_name == "Jo Citizen-Smith"
        assert (await session.get(store.DesktopContact, "e-2")).customer_name == "Jo Citizen"
    await _erase_jo(desktop)
    async with await desktop.service.session() as session:
        erased = await session.get(store.DesktopContact, "e-1")
        kept = await session.get(store.DesktopContact, "e-2")
        told = await inbox_store.inbox_after(session, agent_id="amy", after=0)
    assert (erased.customer_name, erased.customer_email, erased.subject, erased.text) == (None,) * 4
    assert erased.agent_id == "amy" and erased.status == "assigned", "where it stands stays"
    assert kept.customer_email == "jo@example.net", "another contact is not touched"
    assert "Jo Citizen" not in repr([e.data for e in told]) and told
    [report] = await desktop.outbox_of("customer.erasure_applied")
    assert (
        report["payload"]["service"] == "desktop" and report["payload"]["erased"]["contacts"] == 1
    )


async def test_a_stream_resumed_after_an_erasure_sends_the_scrubbed_entries(
    desktop: Desktop,
) -> None:
    """Entries a stream was handed in memory are not sent again once erased: a reconnect from
    before them reads the scrubbed copies."""
    wakeups = DesktopContext.of(desktop.service.runtime).wakeups
    db = desktop.service.runtime.db
    first = streams.stream(db, wakeups, "amy", after=0, hello=None, heartbeat=60)
    assert await anext(first) == "retry: 1000\n\n"
    reading = asyncio.ensure_future(numbered_frames(first, 2))
    await asyncio.sleep(0.1)
    await desktop.assigned("e-1", "amy")
    assert "My bill is wrong" in repr(await reading), "the offer and the assignment"
    await _erase_jo(desktop)
    again = streams.stream(db, wakeups, "amy", after=0, hello=None, heartbeat=60)
    resent = await numbered_frames(again, 2)
    await first.aclose()
    await again.aclose()
    assert "My bill is wrong" not in repr(resent)
    assert all('"erased":true' in chunk for chunk in resent)


async def _erase_jo(desktop: Desktop) -> None:
    """Privacy's request to erase Jo's contact e-1."""
    asked = ErasureRequested(
        request_id="r-1",
        kind="erasure",
        contact_ids=["e-1"],
        identities=[identity_digest("jo@example.net")],
        requested_by="privacy",
    )
    await desktop.service.deliver(Envelope.first(asked, tenant_id="acme", aggregate_id="r-1"))


async def test_follow_ups_and_field_jobs_become_events(desktop: Desktop) -> None:
    await desktop.assigned("a-5", "amy")
    amy = await desktop.sign_in("amy")
    due = datetime.now(UTC) + timedelta(days=1)
    past = await desktop.http.post(
        "/v1/contacts/a-5/follow-ups",
        headers=amy,
        json={"due_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    )
    assert past.status_code == 422
    promised = await desktop.http.post(
        "/v1/contacts/a-5/follow-ups", headers=amy, json={"due_at": due.isoformat()}
    )
    assert promised.status_code == 202
    job = {
        "site": {"address": "1 Main St, Sydney NSW", "lat": -33.86, "lon": 151.2},
        "work_type": "meter-repair",
        "skills": ["meters"],
        "estimated_minutes": 45,
        "window": {"start": due.isoformat(), "end": (due + timedelta(hours=4)).isoformat()},
        "priority": "urgent",
    }
    requested = await desktop.http.post("/v1/contacts/a-5/jobs", headers=amy, json=job)
    assert requested.status_code == 202
    [followup] = await desktop.outbox_of("followup.promised")
    [job_event] = await desktop.outbox_of("job.requested")
    assert followup["payload"]["channel"] == "email" and followup["payload"]["agent_id"] == "amy"
    assert job_event["aggregate_id"] == requested.json()["job_id"]
    assert job_event["contact_id"] == "a-5"

    await desktop.service.deliver(Envelope[JobRequested].model_validate(job_event))
    contact = (await desktop.http.get("/v1/contacts/a-5", headers=amy)).json()
    assert [(j["job_id"], j["status"]) for j in contact["open_jobs"]] == [
        (job_event["aggregate_id"], "requested")
    ]
