"""The desktop's handlers and API on FastStream's in-memory broker and a fresh SQLite database:
offers reach the right agent, commands become events, tenancy and tokens are enforced, and an
agent's stream resumes exactly where it stopped."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from switchboard.common import mail as outgoing
from switchboard.common.centre import (
    AgentConfig,
    CentreConfig,
    QueueConfig,
    ScriptConfig,
    TenantConfig,
)
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ContactWrapped,
    JobRequested,
    ReplySent,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.intake import ContactReceived, EmailDetails, Party
from switchboard.common.events.outbound import OutboundBlocked, OutboundCleared
from switchboard.common.events.privacy import ErasureRequested
from switchboard.common.events.records import CustomerCorrected
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    OfferReason,
    OfferWithdrawn,
)
from switchboard.common.privacy import identity_digest
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.desktop import api, inbox_store, security, store, streams
from switchboard.desktop.context import Desktop as DesktopContext
from switchboard.desktop.handlers import SERVICE, subscriptions
from switchboard.desktop.settings import DesktopSettings

CENTRE = CentreConfig(
    tenants=[
        TenantConfig(
            id="acme",
            name="Acme",
            queues=[
                QueueConfig(
                    id="general",
                    name="General enquiries",
                    default=True,
                    script=ScriptConfig(greeting="Hello, this is {agent}.", closing="Bye."),
                ),
                QueueConfig(id="tier2", name="Tier 2"),
            ],
        ),
        TenantConfig(id="globex", name="Globex", queues=[QueueConfig(id="main", name="Main")]),
    ],
    agents=[
        AgentConfig(id="amy", name="Amy Ang", tenants=["acme"], extension="2001"),
        AgentConfig(id="bob", name="Bob Bell", tenants=["acme"]),
        AgentConfig(id="gus", name="Gus Grey", tenants=["globex"], supervisor=True),
    ],
)
PASSWORDS = {"amy": "amy-pass", "bob": "bob-pass", "gus": "gus-pass"}


@dataclass
class Desktop:
    service: ServiceUnderTest
    http: httpx.AsyncClient

    async def sign_in(self, agent: str) -> dict[str, str]:
        answer = await self.http.post(
            "/v1/session", json={"username": agent, "password": PASSWORDS[agent]}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    async def outbox_of(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in await self.service.outbox() if e["event_type"] == event_type]


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[Desktop]:
    settings = DesktopSettings(var_dir=tmp_path)

    async def prepare(runtime: Any) -> None:
        mailer = outgoing.mailer(None, settings.mail_sink)
        runtime.context = desktop = DesktopContext(runtime, settings, streams.Wakeups(), mailer)
        async with runtime.db.session() as session:
            await store.apply_centre(session, CENTRE, PASSWORDS)
            desktop.session_key.load(await store.signing_key(session))

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=prepare) as service:
        app = FastAPI()
        app.state.runtime = service.runtime
        app.include_router(api.router)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desktop") as http:
            yield Desktop(service, http)


def _event(payload: Payload, contact_id: str, tenant: str = "acme") -> Envelope[Any]:
    return Envelope.first(
        payload,
        tenant_id=tenant,
        aggregate_id=contact_id,
        contact_id=contact_id,
        correlation_id=f"corr-{contact_id}",
    )


async def _email_arrives(desktop: Desktop, contact_id: str, tenant: str = "acme") -> None:
    received = ContactReceived(
        channel="email",
        conversation_id=f"conv-{contact_id}",
        conversation_token="K7Q2",
        received_at=datetime.now(UTC),
        destination="help@acme.example",
        external_id=f"<{contact_id}@mail.example.net>",
        customer=Party(name="Jo Citizen", email="jo@example.net"),
        subject="My bill is wrong",
        text="Card ending [card masked] was charged twice.",
        email=EmailDetails(  # as intake keeps them: without angle brackets
            message_id=f"{contact_id}@mail.example.net", references=["older@mail.example.net"]
        ),
        masked=["card"],
    )
    await desktop.service.deliver(_event(received, contact_id, tenant))


async def _offered(desktop: Desktop, contact_id: str, agent: str, tenant: str = "acme") -> str:
    offer_id = f"offer-{contact_id}-{agent}"
    offered = AgentOffered(
        offer_id=offer_id,
        agent_id=agent,
        queue_id="general",
        channel="email",
        priority=5,
        expires_at=datetime.now(UTC) + timedelta(seconds=60),
        timeout_seconds=60,
        reason=OfferReason(queue_id="general", rule="default", step="0", considered=[], why="-"),
    )
    await desktop.service.deliver(_event(offered, contact_id, tenant))
    return offer_id


async def _assigned(desktop: Desktop, contact_id: str, agent: str) -> None:
    await _email_arrives(desktop, contact_id)
    offer_id = await _offered(desktop, contact_id, agent)
    assigned = ContactAssigned(
        offer_id=offer_id, agent_id=agent, queue_id="general", waited_seconds=3.0
    )
    await desktop.service.deliver(_event(assigned, contact_id))


async def test_sign_in_takes_the_right_password_only(desktop: Desktop) -> None:
    wrong = await desktop.http.post("/v1/session", json={"username": "amy", "password": "nope"})
    unknown = await desktop.http.post("/v1/session", json={"username": "zed", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}
    me = await desktop.http.get("/v1/me", headers=await desktop.sign_in("amy"))
    assert me.status_code == 200
    assert me.json()["agent_id"] == "amy" and me.json()["state"] == "offline"


async def test_missing_forged_and_expired_tokens_get_401(desktop: Desktop) -> None:
    key = DesktopContext.of(desktop.service.runtime).session_key.key
    genuine = (await desktop.sign_in("amy"))["Authorization"].removeprefix("Bearer ")
    body, _, signature = genuine.partition(".")
    claims_for_bob = security._b64(security._unb64(body).replace(b'"amy"', b'"bob"'))
    expired, _ = security.issue(key, "amy", lifetime=timedelta(seconds=-1))
    other_key, _ = security.issue(b"not the desktop's key", "amy", lifetime=timedelta(hours=1))
    cases = {
        None: "sign in first",
        f"{claims_for_bob}.{signature}": "token signature does not match",
        other_key: "token signature does not match",
        expired: "token expired: sign in again",
        "garbage": "malformed token",
    }
    for token, reason in cases.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in (("GET", "/v1/me"), ("GET", "/v1/events"), ("POST", "/v1/state")):
            answer = await desktop.http.request(
                method, path, headers=headers, json={"state": "available"}
            )
            assert answer.status_code == 401, (token, path)
            assert answer.json() == {"detail": reason}
            assert answer.headers["www-authenticate"] == "Bearer"
    assert await desktop.outbox_of("agent.state") == []


async def test_an_offer_reaches_its_agent_and_acceptance_becomes_an_event(desktop: Desktop) -> None:
    await _email_arrives(desktop, "c-1")
    offer_id = await _offered(desktop, "c-1", "amy")
    amy, bob = await desktop.sign_in("amy"), await desktop.sign_in("bob")

    mine = (await desktop.http.get("/v1/me", headers=amy)).json()
    assert [o["offer_id"] for o in mine["offers"]] == [offer_id]
    assert (await desktop.http.get("/v1/me", headers=bob)).json()["offers"] == []

    stolen = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=bob)
    assert stolen.status_code == 404
    accepted = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=amy)
    assert accepted.status_code == 202
    again = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=amy)
    assert again.status_code == 409

    [event] = await desktop.outbox_of("contact.accepted")
    assert event["payload"] == {"offer_id": offer_id, "agent_id": "amy"}
    assert event["aggregate_id"] == event["contact_id"] == "c-1"
    assert event["correlation_id"] == "corr-c-1"


async def test_a_withdrawn_or_expired_offer_cannot_be_accepted(desktop: Desktop) -> None:
    offer_id = await _offered(desktop, "c-2", "amy")
    withdrawn = OfferWithdrawn(offer_id=offer_id, agent_id="amy", reason="timed_out")
    await desktop.service.deliver(_event(withdrawn, "c-2"))
    amy = await desktop.sign_in("amy")
    answer = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=amy)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "the offer is no longer open (withdrawn)"


async def test_agents_see_only_their_tenants_contacts(desktop: Desktop) -> None:
    await _email_arrives(desktop, "g-1", tenant="globex")
    await _assigned(desktop, "a-1", "amy")
    amy, gus = await desktop.sign_in("amy"), await desktop.sign_in("gus")

    assert (await desktop.http.get("/v1/contacts/g-1", headers=amy)).status_code == 404
    assert (await desktop.http.get("/v1/contacts/a-1", headers=gus)).status_code == 404
    assert (await desktop.http.get("/v1/contacts/nothing", headers=amy)).status_code == 404
    wrap = {"disposition": "x", "outcome": "resolved"}
    answer = await desktop.http.post("/v1/contacts/a-1/wrapup", headers=gus, json=wrap)
    assert answer.status_code == 404

    contact = (await desktop.http.get("/v1/contacts/a-1", headers=amy)).json()
    assert contact["text"] == "Card ending [card masked] was charged twice."
    assert contact["masked"] == ["card"]
    assert contact["script"]["greeting"] == "Hello, this is Amy."
    assert [q["queue_id"] for q in contact["queues"]] == ["general", "tier2"]


async def test_nobody_wraps_up_someone_elses_contact(desktop: Desktop) -> None:
    await _assigned(desktop, "a-2", "amy")
    amy, bob = await desktop.sign_in("amy"), await desktop.sign_in("bob")
    wrap = {"disposition": "billing-query", "outcome": "resolved", "notes": "refunded"}

    theirs = await desktop.http.post("/v1/contacts/a-2/wrapup", headers=bob, json=wrap)
    assert theirs.status_code == 403
    assert theirs.json()["detail"] == "this contact is not assigned to you"
    bad = await desktop.http.post(
        "/v1/contacts/a-2/wrapup", headers=amy, json={**wrap, "outcome": "happy"}
    )
    assert bad.status_code == 422
    mine = await desktop.http.post("/v1/contacts/a-2/wrapup", headers=amy, json=wrap)
    assert mine.status_code == 202
    twice = await desktop.http.post("/v1/contacts/a-2/wrapup", headers=amy, json=wrap)
    assert twice.status_code == 409

    [event] = await desktop.outbox_of("contact.wrapped")
    assert event["payload"] == {"agent_id": "amy", **wrap}


async def test_escalation_ends_the_agents_part_and_names_the_target(desktop: Desktop) -> None:
    await _assigned(desktop, "a-3", "amy")
    amy = await desktop.sign_in("amy")
    body = {"reason": "needs a credit over $500", "category": "authority", "queue_id": "tier2"}
    unknown = await desktop.http.post(
        "/v1/contacts/a-3/escalate", headers=amy, json={**body, "queue_id": "nowhere"}
    )
    assert unknown.status_code == 422
    answer = await desktop.http.post("/v1/contacts/a-3/escalate", headers=amy, json=body)
    assert answer.status_code == 202

    [wrapped] = await desktop.outbox_of("contact.wrapped")
    [escalated] = await desktop.outbox_of("contact.escalated")
    assert wrapped["payload"]["outcome"] == "escalated"
    assert escalated["payload"]["queue_id"] == "tier2"
    assert escalated["payload"]["requested_by"] == "amy"

    # Tier 2's agent wraps it up: the agent who escalated is told how it ended.
    await desktop.service.deliver(
        _event(ContactEscalated.model_validate(escalated["payload"]), "a-3")
    )
    done = ContactWrapped(agent_id="bob", disposition="credit", outcome="resolved")
    await desktop.service.deliver(_event(done, "a-3"))
    async with await desktop.service.session() as session:
        told = await inbox_store.inbox_after(session, agent_id="amy", after=0)
    assert [e.event_type for e in told][-2:] == ["escalated", "escalation_outcome"]
    assert told[-1].data["by_agent"] == "bob" and told[-1].data["outcome"] == "resolved"


async def test_an_email_reply_is_threaded_under_the_customers_message(desktop: Desktop) -> None:
    await _assigned(desktop, "a-4", "amy")
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
    await desktop.service.deliver(_event(received, contact_id))
    offer_id = await _offered(desktop, contact_id, "amy")
    assigned = ContactAssigned(
        offer_id=offer_id, agent_id="amy", queue_id="general", waited_seconds=3.0
    )
    await desktop.service.deliver(_event(assigned, contact_id))


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
        return _event(answer, answers[contact_id])

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
    await _assigned(desktop, "e-1", "amy")
    await _assigned(desktop, "e-2", "bob")
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
    asked = ErasureRequested(
        request_id="r-1",
        kind="erasure",
        contact_ids=["e-1"],
        identities=[identity_digest("jo@example.net")],
        requested_by="privacy",
    )
    await desktop.service.deliver(Envelope.first(asked, tenant_id="acme", aggregate_id="r-1"))
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


async def test_follow_ups_and_field_jobs_become_events(desktop: Desktop) -> None:
    await _assigned(desktop, "a-5", "amy")
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


async def test_the_wallboard_is_for_supervisors_of_their_tenants(desktop: Desktop) -> None:
    amy, gus = await desktop.sign_in("amy"), await desktop.sign_in("gus")
    assert (await desktop.http.get("/v1/supervisor", headers=amy)).status_code == 403
    board = (await desktop.http.get("/v1/supervisor", headers=gus)).json()
    assert [a["agent_id"] for a in board["agents"]] == ["gus"]


async def test_a_stream_resumed_after_a_drop_misses_nothing_and_repeats_nothing(
    desktop: Desktop,
) -> None:
    runtime = desktop.service.runtime

    async def state(n: int) -> None:
        change = AgentStateChanged(agent_id="amy", state="break", reason=f"r{n}")
        await desktop.service.deliver(Envelope.first(change, tenant_id="acme", aggregate_id="amy"))

    for n in range(5):
        await state(n)
    received: list[tuple[int, str]] = []

    async def read(after: int, count: int) -> None:
        frames = streams.stream(
            runtime.db,
            DesktopContext.of(runtime).wakeups,
            "amy",
            after=after,
            hello=None,
            heartbeat=60,
        )
        async for chunk in frames:
            if chunk.startswith("id: "):
                lines = chunk.splitlines()
                reason = lines[2].split('"reason":"')[1].split('"')[0]
                received.append((int(lines[0][4:]), reason))
                if len(received) == count:
                    break
        await frames.aclose()

    await read(0, 3)  # the connection drops after three events
    for n in range(5, 8):
        await state(n)  # while it is down
    await read(received[-1][0], 8)  # the browser reconnects with Last-Event-ID
    assert [seq for seq, _ in received] == list(range(1, 9))
    assert [reason for _, reason in received] == [f"r{n}" for n in range(8)]


async def test_a_stream_gets_what_another_replicas_consumer_stored(desktop: Desktop) -> None:
    """Another replica's consumer stores the entry and wakes only its own streams: this replica's
    stream learns of it from the watch over every open stream's agent."""
    runtime = desktop.service.runtime
    wakeups: streams.Wakeups = DesktopContext.of(runtime).wakeups
    async with runtime.db.reader() as session:
        [after] = (await inbox_store.last_seqs(session, agent_ids=["amy"])).values()
    frames = streams.stream(runtime.db, wakeups, "amy", after=after, hello=None, heartbeat=60)
    assert await anext(frames) == "retry: 1000\n\n"
    waiting = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0.2)
    assert not waiting.done(), "nothing stored yet"

    async with runtime.db.session() as session:  # as another replica would: no wake-up here
        delivered = await inbox_store.deliver(
            session, entries=[("amy", "state", {"state": "break"})]
        )
    seq = delivered["amy"]
    watch = asyncio.create_task(wakeups.watch(runtime.db, 0.05))
    try:
        chunk = await asyncio.wait_for(waiting, timeout=5)
    finally:
        watch.cancel()
        await frames.aclose()
    assert chunk == f'id: {seq}\nevent: state\ndata: {{"state":"break"}}\n\n'
