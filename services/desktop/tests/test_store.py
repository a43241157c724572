"""The desktop's store contract, on SQLite and PostgreSQL: agents' inboxes (what their streams
replay), contacts' rows and erasure."""

from __future__ import annotations

import asyncio

from switchboard.common import prefetch
from switchboard.common.db import Database
from switchboard.common.envelope import Envelope
from switchboard.common.events.desktop import AgentStateChanged
from switchboard.common.testing import statements_run
from switchboard.desktop import floor_store, inbox_store, store


async def _agents(db: Database, *names: str, tenants: tuple[str, ...] = ("acme",)) -> None:
    async with db.session() as session:
        for name in names:
            session.add(store.DesktopAgent(agent_id=name, name=name.title(), tenants=list(tenants)))


async def test_entries_told_at_once_are_numbered_once_each_in_order_per_agent(
    database: Database,
) -> None:
    """Many transactions telling the same agents at once: each agent's numbers run 1..n with no
    gap and no repeat (a stream reading `seq > last` never skips one), and an unknown agent's
    entries are dropped."""
    await _agents(database, "amy", "bo")

    async def tell(n: int) -> dict[str, int]:
        async with database.session() as session:
            return await inbox_store.deliver(
                session,
                entries=[
                    ("amy", "state", {"n": n}),
                    ("bo", "state", {"n": n}),
                    ("amy", "alert", {"n": n}),
                    ("nobody", "state", {"n": n}),
                ],
            )

    newest = await asyncio.gather(*(tell(n) for n in range(8)))
    assert all(set(answer) == {"amy", "bo"} for answer in newest)
    async with database.reader() as session:
        amy = await inbox_store.inbox_after(session, agent_id="amy", after=0)
        bo = await inbox_store.inbox_after(session, agent_id="bo", after=0)
        last = await inbox_store.last_seqs(session, agent_ids=["amy", "bo", "nobody"])
        oldest = await inbox_store.oldest_kept(session, agent_id="amy")
        after_ten = await inbox_store.inbox_after(session, agent_id="amy", after=10)
    assert [e.seq for e in amy] == list(range(1, 17))
    assert [e.seq for e in bo] == list(range(1, 9))
    for entry_pair in zip(amy[::2], amy[1::2], strict=True):  # one transaction's, in its order
        assert [e.event_type for e in entry_pair] == ["state", "alert"]
        assert entry_pair[0].data == entry_pair[1].data
    assert last == {"amy": 16, "bo": 8}
    assert oldest == 1 and [e.seq for e in after_ten] == list(range(11, 17))


async def test_entries_reach_an_agent_made_in_the_same_transaction_and_a_held_copy_keeps_count(
    database: Database,
) -> None:
    """The numbers are read and advanced by prepared statements on the connection: an agent the
    transaction made and has not written yet is told all the same, and the session's copy of an
    agent it holds shows the agent's newest number."""
    await _agents(database, "amy")
    async with database.session() as session:
        held = await session.get(store.DesktopAgent, "amy")
        assert held is not None and held.last_seq == 0
        session.add(store.DesktopAgent(agent_id="cy", name="Cy", tenants=["acme"]))
        told = await inbox_store.deliver(
            session,
            entries=[("cy", "state", {"n": 1}), ("amy", "state", {"n": 1}), ("amy", "x", {})],
        )
        assert [entry.seq for entry in told["cy"]] == [1]
        assert [entry.seq for entry in told["amy"]] == [1, 2]
        assert held.last_seq == 2
    async with database.reader() as session:
        assert await inbox_store.last_seqs(session, agent_ids=["amy", "cy"]) == {"amy": 2, "cy": 1}


async def test_a_batch_of_state_changes_finds_its_agents_in_one_query(database: Database) -> None:
    """Each agent's state change looks its agent up: the batch's prefetch loads them all at once,
    so the look-ups (an unknown agent's too) are answered from the session."""
    await _agents(database, "amy", "bo")
    changes = [
        Envelope.first(
            AgentStateChanged(agent_id=agent, state="break"), tenant_id="acme", aggregate_id=agent
        )
        for agent in ("amy", "bo", "nobody", "amy")
    ]
    async with database.session() as session:
        await store.prefetch_batch(session, changes)
        with statements_run(database.engine) as statements:
            found = [
                await prefetch.find(session, store.DesktopAgent, e.payload.agent_id)
                for e in changes
            ]
        assert statements == []
    assert [agent.agent_id if agent else None for agent in found] == ["amy", "bo", None, "amy"]


async def test_inbox_entries_about_a_contact_are_found_for_erasure(database: Database) -> None:
    await _agents(database, "amy")
    async with database.session() as session:
        await inbox_store.deliver(
            session,
            entries=[
                ("amy", "offer", {"contact_id": "c-1", "subject": "my card"}),
                ("amy", "offer", {"contact_id": "c-2"}),
                ("amy", "state", {"state": "break"}),
            ],
        )
    async with database.reader() as session:
        about = await inbox_store.entries_about(session, contact_ids=["c-1"])
    assert [e.data["subject"] for e in about] == ["my card"]


async def test_a_contacts_row_is_made_once_by_the_first_event_about_it(database: Database) -> None:
    async with database.session() as session:
        first = await store.contact_row(
            session, contact_id="c-1", tenant_id="acme", correlation_id="corr-1"
        )
        first.subject = "Billing"
        session.add(first)
    async with database.session() as session:
        again = await store.contact_row(
            session, contact_id="c-1", tenant_id="acme", correlation_id="corr-other"
        )
        assert (again.subject, again.correlation_id) == ("Billing", "corr-1")


async def test_erasure_clears_the_customer_from_contacts_and_replies(database: Database) -> None:
    async with database.session() as session:
        for contact_id in ("c-1", "c-2"):
            row = await store.contact_row(
                session, contact_id=contact_id, tenant_id="acme", correlation_id=contact_id
            )
            row.customer_name, row.customer_email, row.text = "Jordan", "j@example.net", "Hello"
            session.add(row)
        session.add(
            store.OutboundByAgent(
                request_id="r-1", agent_id="amy", contact_id="c-1", channel="sms", text="Hi Jordan"
            )
        )
    async with database.session() as session:
        assert await store.erase_contacts(session, contact_ids=["c-1"]) == (1, 1)
    async with database.reader() as session:
        erased, kept = await store.contacts(session, contact_ids=["c-1", "c-2"])
        if erased.contact_id != "c-1":
            erased, kept = kept, erased
        reply = await session.get(store.OutboundByAgent, "r-1")
    assert (erased.customer_name, erased.customer_email, erased.text) == (None, None, None)
    assert (kept.customer_name, kept.text) == ("Jordan", "Hello")
    assert reply is not None and reply.text is None


async def test_a_team_leader_sees_the_floor_of_their_tenants_only(database: Database) -> None:
    await _agents(database, "amy", "bo")
    await _agents(database, "cy", tenants=("globex",))
    async with database.session() as session:
        for tenant in ("acme", "globex"):
            session.add(floor_store.QueueFigures(tenant_id=tenant, queue_id="billing", figures={}))
        for n in range(3):
            session.add(
                floor_store.SupervisorAction(
                    action_id=f"a-{n}",
                    tenant_id="acme",
                    supervisor_id="amy",
                    action="monitor",
                    agent_id="bo",
                )
            )
    async with database.reader() as session:
        colleagues = await store.colleagues(session, tenant_ids=["acme"])
        figures = await floor_store.queue_figures(session, tenant_ids=["acme"])
        actions = await floor_store.supervisor_actions(session, tenant_ids=["acme"], limit=2)
    assert sorted(a.agent_id for a in colleagues) == ["amy", "bo"]
    assert [f.tenant_id for f in figures] == ["acme"]
    assert len(actions) == 2
