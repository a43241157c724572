"""The desktop's handlers and API on FastStream's in-memory broker and a fresh SQLite database:
offers reach the right agent, commands become events, tenancy and tokens are enforced, and an
agent's stream resumes exactly where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

from services.desktop.tests.desktop_under_test import Desktop, numbered_frames
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import (
    AgentStateChanged,
    ContactWrapped,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.routing import (
    ContactAssigned,
    OfferWithdrawn,
)
from switchboard.desktop import inbox_store, security, streams
from switchboard.desktop.context import Desktop as DesktopContext


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
    await desktop.email_arrives("c-1")
    offer_id = await desktop.offered("c-1", "amy")
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
    offer_id = await desktop.offered("c-2", "amy")
    withdrawn = OfferWithdrawn(offer_id=offer_id, agent_id="amy", reason="timed_out")
    await desktop.service.deliver(desktop.event(withdrawn, "c-2"))
    amy = await desktop.sign_in("amy")
    answer = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=amy)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "the offer is no longer open (withdrawn)"


async def test_an_offer_withdrawn_before_it_came_never_opens(desktop: Desktop) -> None:
    """The withdrawal and the offer come on different topics: applied in the other order, the
    offer is recorded as withdrawn and the agent never sees it open."""
    await desktop.email_arrives("c-3")
    offer_id = "offer-c-3-amy"
    withdrawn = OfferWithdrawn(offer_id=offer_id, agent_id="amy", reason="timed_out")
    await desktop.service.deliver(desktop.event(withdrawn, "c-3"))
    assert await desktop.offered("c-3", "amy") == offer_id
    amy = await desktop.sign_in("amy")
    assert (await desktop.http.get("/v1/me", headers=amy)).json()["offers"] == []
    answer = await desktop.http.post(f"/v1/offers/{offer_id}/accept", headers=amy)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "the offer is no longer open (withdrawn)"
    assert await desktop.outbox_of("contact.accepted") == []


async def test_an_offer_whose_assignment_came_first_never_opens(desktop: Desktop) -> None:
    """From a backlog, the assignment (another topic) may be applied before the offer it
    followed: the agent has the contact, and the offer never opens on their screen."""
    await desktop.email_arrives("c-4")
    assigned = ContactAssigned(
        offer_id="offer-c-4-amy", agent_id="amy", queue_id="general", waited_seconds=3.0
    )
    await desktop.service.deliver(desktop.event(assigned, "c-4"))
    assert await desktop.offered("c-4", "amy") == "offer-c-4-amy"
    amy = await desktop.sign_in("amy")
    mine = (await desktop.http.get("/v1/me", headers=amy)).json()
    assert mine["offers"] == []
    contact = (await desktop.http.get("/v1/contacts/c-4", headers=amy)).json()
    assert contact["status"] == "assigned"


async def test_agents_see_only_their_tenants_contacts(desktop: Desktop) -> None:
    await desktop.email_arrives("g-1", tenant="globex")
    await desktop.assigned("a-1", "amy")
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
    await desktop.assigned("a-2", "amy")
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
    await desktop.assigned("a-3", "amy")
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
        desktop.event(ContactEscalated.model_validate(escalated["payload"]), "a-3")
    )
    done = ContactWrapped(agent_id="bob", disposition="credit", outcome="resolved")
    await desktop.service.deliver(desktop.event(done, "a-3"))
    async with await desktop.service.session() as session:
        told = await inbox_store.inbox_after(session, agent_id="amy", after=0)
    assert [e.event_type for e in told][-2:] == ["escalated", "escalation_outcome"]
    assert told[-1].data["by_agent"] == "bob" and told[-1].data["outcome"] == "resolved"


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
    [(seq, _, _)] = delivered["amy"]
    watch = asyncio.create_task(wakeups.watch(runtime.db, 0.05))
    try:
        chunk = await asyncio.wait_for(waiting, timeout=5)
    finally:
        watch.cancel()
        await frames.aclose()
    assert chunk == f'id: {seq}\nevent: state\ndata: {{"state":"break"}}\n\n'


class CountedReads:
    """The desktop's database, counting the read sessions a stream opens."""

    def __init__(self, db: Any) -> None:
        self.db, self.reads = db, 0

    def reader(self) -> Any:
        self.reads += 1
        return self.db.reader()


async def _frames(frames: AsyncIterator[str], count: int) -> list[tuple[int, str]]:
    """The next `count` numbered frames: (number, event type)."""
    got = []
    for chunk in await numbered_frames(frames, count):
        seq, event_type = chunk.splitlines()[:2]
        got.append((int(seq[4:]), event_type.removeprefix("event: ")))
    return got


async def test_an_up_to_date_stream_is_handed_what_this_desktop_commits_without_reading(
    desktop: Desktop,
) -> None:
    """A stream reads its inbox once when it connects; after that, what this process's consumer
    commits is sent from memory, in order and whole, until it learns of an entry it was not
    handed (another replica's), which it reads."""
    runtime = desktop.service.runtime
    wakeups: streams.Wakeups = DesktopContext.of(runtime).wakeups
    db = CountedReads(runtime.db)
    frames = streams.stream(cast(Any, db), wakeups, "amy", after=0, hello=None, heartbeat=60)
    assert await anext(frames) == "retry: 1000\n\n"
    waiting = asyncio.ensure_future(_frames(frames, 3))
    await asyncio.sleep(0.1)
    reads_when_connected = db.reads
    for n in range(3):
        change = AgentStateChanged(agent_id="amy", state="break", reason=f"r{n}")
        await desktop.service.deliver(Envelope.first(change, tenant_id="acme", aggregate_id="amy"))
    handed = await waiting
    assert [event_type for _, event_type in handed] == ["state"] * 3
    assert [seq for seq, _ in handed] == list(range(handed[0][0], handed[0][0] + 3))
    assert db.reads == reads_when_connected, "sent from memory"

    async with runtime.db.session() as session:  # another replica's entry: not handed here
        await inbox_store.deliver(session, entries=[("amy", "alert", {"n": 1})])
    change = AgentStateChanged(agent_id="amy", state="available")
    await desktop.service.deliver(Envelope.first(change, tenant_id="acme", aggregate_id="amy"))
    assert await _frames(frames, 2) == [
        (handed[-1][0] + 1, "alert"),
        (handed[-1][0] + 2, "state"),
    ], "the gap is read from the inbox"
    assert db.reads == reads_when_connected + 1
    waiting = asyncio.ensure_future(anext(frames))  # the stream goes on waiting ...
    await asyncio.sleep(0.1)
    assert wakeups.entries_kept == 0, "... holding nothing it has sent"
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await frames.aclose()
