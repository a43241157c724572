"""A period's contacts through their whole life, delivered in order and then duplicated and
shuffled: the same record, the same customers, and KPIs equal to what is computed here by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from switchboard.common.centre import CentreConfig, RecordPolicyConfig, TenantConfig
from switchboard.common.envelope import Envelope, Payload
from switchboard.common.events.catalogue import RetentionOffered
from switchboard.common.events.desktop import (
    ComplaintRaised,
    ContactWrapped,
    FollowUpDone,
    FollowUpPromised,
    ImprovementNoted,
)
from switchboard.common.events.escalation import ContactEscalated
from switchboard.common.events.intake import CallAbandoned, ContactReceived, Party
from switchboard.common.events.records import SurveyResponded
from switchboard.common.events.routing import (
    AgentOffered,
    ContactAssigned,
    ContactNotRouted,
    ContactQueued,
    OfferReason,
)
from switchboard.common.runtime import Runtime
from switchboard.common.testing import ServiceUnderTest, service_under_test
from switchboard.recording import casework, customers, kpis, retention, store
from switchboard.recording.handlers import SERVICE, subscriptions

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PERIOD = kpis.Period("acme", T0, T0 + timedelta(hours=1))
NOW = T0 + timedelta(days=1)


class Story:
    """One contact's events, each at a given second after it was received."""

    def __init__(
        self,
        n: int,
        channel: str,
        *,
        conversation: str | None = None,
        at: datetime | None = None,
        **party: str,
    ):
        self.contact_id = f"c{n}"
        self.received_at = at or T0 + timedelta(minutes=n)
        received = ContactReceived(
            channel=channel,  # type: ignore[arg-type]
            conversation_id=conversation or f"conv-{n}",
            received_at=self.received_at,
            destination="help@acme.example",
            external_id=f"ext-{n}",
            customer=Party(**party),
        )
        self.first = Envelope.first(
            received,
            tenant_id="acme",
            aggregate_id=self.contact_id,
            contact_id=self.contact_id,
            occurred_at=self.received_at,
        )
        self.events: list[Envelope[Any]] = [self.first]

    def then(self, seconds: float, payload: Payload, *, agent: str | None = None) -> Story:
        at = self.received_at + timedelta(seconds=seconds)
        self.events.append(self.first.follow(payload, occurred_at=at, aggregate_id=agent))
        return self

    def queued(self) -> Story:
        return self.then(
            1, ContactQueued(queue_id="general", priority=5, reason="r", service_level_seconds=20)
        )

    def answered(self, waited: float, handled: float, outcome: str) -> Story:
        reason = OfferReason(queue_id="acme/general", rule="r", step="s", considered=[], why="w")
        offered = AgentOffered(
            offer_id=f"o-{self.contact_id}",
            agent_id="amy",
            queue_id="general",
            channel="email",
            priority=5,
            expires_at=T0,
            timeout_seconds=60,
            reason=reason,
        )
        assigned = ContactAssigned(
            offer_id=f"o-{self.contact_id}",
            agent_id="amy",
            queue_id="general",
            waited_seconds=waited,
        )
        wrapped = ContactWrapped(agent_id="amy", disposition="done", outcome=outcome)
        return (
            self.then(waited - 1, offered, agent="amy")
            .then(waited, assigned)
            .then(waited + handled, wrapped)
        )

    def transferred(self, at: float, then_waited: float, resolved_at: float) -> Story:
        """amy escalates it to another queue, where bob resolves it."""
        escalated = ContactEscalated(
            reason="needs authority", queue_id="general", requested_by="amy"
        )
        again = ContactAssigned(
            offer_id=f"o2-{self.contact_id}",
            agent_id="bob",
            queue_id="general",
            waited_seconds=then_waited,
        )
        return (
            self.then(at, ContactWrapped(agent_id="amy", disposition="up", outcome="escalated"))
            .then(at, escalated)
            .then(at + then_waited, again)
            .then(
                resolved_at, ContactWrapped(agent_id="bob", disposition="fixed", outcome="resolved")
            )
        )

    def survey(self, csat: int, nps: int) -> Story:
        return self.then(3600, SurveyResponded(csat=csat, nps=nps, source="survey tool"))

    def follow_up(self, due_minutes: float, done_minutes: float | None) -> Story:
        promised = FollowUpPromised(
            follow_up_id=f"f-{self.contact_id}",
            agent_id="amy",
            due_at=T0 + timedelta(minutes=due_minutes),
            channel="phone",
        )
        self.then(200, promised)
        if done_minutes is not None:
            done = FollowUpDone(follow_up_id=f"f-{self.contact_id}", agent_id="amy")
            self.then(
                (T0 + timedelta(minutes=done_minutes) - self.received_at).total_seconds(), done
            )
        return self

    def abandoned(self, after: float) -> Story:
        return self.then(
            after, CallAbandoned(call_id="x", at=self.received_at + timedelta(seconds=after))
        )


def _retention(answer: str) -> RetentionOffered:
    return RetentionOffered(
        offer_id="loyalty", name="Loyalty discount", agent_id="amy", reason="price", answer=answer
    )  # type: ignore[arg-type]


def _stories() -> list[Story]:
    jordan = {"name": "Jordan Citizen", "email": "Jordan@Example.net"}
    return [
        Story(1, "email", **jordan)
        .queued()
        .answered(10, 300, "resolved")
        .survey(csat=5, nps=10)
        .follow_up(due_minutes=2 * 24 * 60, done_minutes=None)  # not due yet
        .then(
            250,
            ComplaintRaised(
                complaint_id="cp-1",
                agent_id="amy",
                category="billing",
                summary="Jordan Citizen says the bill doubled",
            ),
        )
        .then(
            260,
            ImprovementNoted(
                improvement_id="im-1",
                agent_id="amy",
                category="billing",
                description="Jordan could not read the tariff table",
            ),
        ),
        Story(2, "phone", phone="+61412345678")
        .queued()
        .answered(30, 120, "sale")
        .survey(csat=3, nps=6)
        .follow_up(due_minutes=30, done_minutes=20)  # kept on time
        .then(100, _retention("declined"))
        .then(110, _retention("accepted")),  # saved: once, though offered twice
        Story(3, "phone", phone="+61412000003").queued().abandoned(60),
        Story(4, "phone", phone="+61412000004").queued().abandoned(3),  # a short abandon
        Story(5, "email", email="sam@example.net")
        .queued()
        .then(90, ContactEscalated(reason="complaint", priority=9)),
        Story(6, "email", email="noreply@example.com").then(1, ContactNotRouted(reason="auto")),
        Story(7, "email", conversation="conv-1", email="jordan@example.net").queued(),
        Story(8, "email", email="kim@example.net")
        .then(40, _retention("declined"))  # not saved
        .queued()
        .answered(5, 60, "resolved")
        .survey(csat=4, nps=8)
        .follow_up(due_minutes=40, done_minutes=50),  # kept late
        Story(9, "email", email="lee@example.net")
        .queued()
        .answered(8, 60, "escalated")
        .transferred(68, 32, 400),
    ]


async def _seeded(runtime: Runtime) -> None:
    centre = CentreConfig(
        tenants=[TenantConfig(id="acme", name="Acme", record=RecordPolicyConfig())]
    )
    async with runtime.db.session() as session:
        await kpis.apply_centre(session, centre)


async def _state(recording: ServiceUnderTest) -> tuple[Any, ...]:
    async with await recording.session() as session:
        contacts = sorted(
            (c.model_dump() for c in (await session.exec(select(store.RecordedContact))).all()),
            key=lambda c: c["contact_id"],
        )
        identities = sorted(
            (i.kind, i.value, i.customer_id)
            for i in (await session.exec(select(customers.CustomerIdentity))).all()
        )
        timeline = sorted(
            e.event_id for e in (await session.exec(select(store.TimelineEntry))).all()
        )
        figures = await kpis.compute(session, PERIOD, now=NOW)
    return contacts, identities, timeline, figures


async def test_kpis_are_what_the_hand_computes_however_events_arrive(tmp_path: Path) -> None:
    events = [e for story in _stories() for e in story.events]
    async with service_under_test(
        SERVICE, subscriptions, tmp_path / "in-order", prepare=_seeded
    ) as recording:
        for event in events:
            await recording.deliver(event)
        expected = await _state(recording)

    shuffled = events * 2
    random.Random(11).shuffle(shuffled)
    async with service_under_test(
        SERVICE, subscriptions, tmp_path / "shuffled", prepare=_seeded
    ) as recording:
        for event in shuffled:
            await recording.deliver(event)
        assert await _state(recording) == expected

    contacts, identities, _timeline, figures = expected
    # Queued: c1-c5, c7-c9 (8); c4 hung up within 5 s: offered 7. Answered c1, c2, c8, c9; within
    # 20 s c1 (10 s), c8 (5 s), c9 (8 s: its first wait; its second, after amy escalated it, does
    # not count). Abandoned c3. Wrapped c1, c2, c8, c9 (c9 handled from amy's assignment at 8 s to
    # bob's wrap-up at 400 s: 392 s); resolved c1, c8 and c9 (bob's outcome is the last), but c7
    # came back in c1's conversation. Escalated c5 and c9. One sale among one sales opportunity.
    # Transferred: c9 of the 4 assigned. Surveys: CSAT 5, 3, 4; NPS 10 (promoter), 6 (detractor),
    # 8 (passive). Follow-ups due by NOW: c2's (kept on time) and c8's (kept late).
    assert figures["offered"] == 7 and figures["answered"] == 4 and figures["abandoned"] == 1
    assert figures["service_level"] == round(3 / 7, 4)
    assert figures["average_speed_of_answer"] == (10 + 30 + 5 + 8) / 4
    assert figures["average_handle_time"] == (300 + 120 + 60 + 392) / 4
    assert figures["abandonment_rate"] == round(1 / 7, 4)
    assert figures["first_contact_resolution"] == 2 / 4
    assert figures["escalation_rate"] == round(2 / 7, 4)
    assert figures["conversion_rate"] == 1.0
    assert figures["transfer_rate"] == 1 / 4
    assert figures["csat"] == 4.0
    assert figures["nps"] == 0.0
    assert figures["follow_ups_on_time"] == 1 / 2
    assert figures["retention_save_rate"] == 1 / 2  # c2 saved, c8 not

    by_id = {c["contact_id"]: c for c in contacts}
    assert by_id["c1"]["customer_id"] == by_id["c7"]["customer_id"], "same email, any case"
    assert by_id["c1"]["status"] == "wrapped" and by_id["c1"]["handle_seconds"] == 300
    assert by_id["c3"]["status"] == "abandoned" and by_id["c3"]["abandoned_after_seconds"] == 60
    assert (by_id["c9"]["agent_id"], by_id["c9"]["outcome"], by_id["c9"]["disposition"]) == (
        "bob",
        "resolved",
        "fixed",
    )
    assert by_id["c9"]["assignments"] == 2 and by_id["c9"]["waited_seconds"] == 8
    assert ("email", "jordan@example.net", by_id["c1"]["customer_id"]) in identities


async def test_abandons_left_out_of_the_service_level_by_the_tenant_s_choice(
    tmp_path: Path,
) -> None:
    async def lenient(runtime: Runtime) -> None:
        policy = RecordPolicyConfig(abandons_count_against_service_level=False)
        centre = CentreConfig(tenants=[TenantConfig(id="acme", name="Acme", record=policy)])
        async with runtime.db.session() as session:
            await kpis.apply_centre(session, centre)

    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=lenient) as recording:
        for event in [e for story in _stories() for e in story.events]:
            await recording.deliver(event)
        async with await recording.session() as session:
            figures = await kpis.compute(session, PERIOD)
            other = await kpis.compute(session, kpis.Period("acme", T0, PERIOD.end, "other"))
        assert figures["service_level"] == round(3 / 6, 4)
        assert figures["definitions"]["abandons_count_against_service_level"] is False
        assert other["offered"] == 0 and other["service_level"] is None


async def test_retention_deidentifies_old_contacts_and_leaves_no_pii(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=_seeded) as recording:
        for event in [e for story in _stories() for e in story.events]:
            await recording.deliver(event)
        later = T0 + timedelta(days=7 * 365)
        recent = Story(60, "email", at=later, name="Robin Recent", email="robin@example.net")
        await recording.deliver(recent.first)
        async with recording.runtime.transaction() as tx:
            [report] = await retention.run(tx, now=T0 + timedelta(days=7 * 365, hours=2))
        assert (report.contacts, report.customers) == (9, 8)

        async with await recording.session() as session:
            contacts = (await session.exec(select(store.RecordedContact))).all()
            timeline = (await session.exec(select(store.TimelineEntry))).all()
            identities = (await session.exec(select(customers.CustomerIdentity))).all()
            people = (await session.exec(select(customers.RecordedCustomer))).all()
            figures = await kpis.compute(session, PERIOD)
            casework_rows = [
                row.model_dump()
                for table in (
                    casework.RecordedComplaint,
                    casework.RecordedImprovement,
                    casework.RecordedFollowUp,
                    casework.SurveyResponse,
                )
                for row in (await session.exec(select(table))).all()
            ]
        assert len(casework_rows) == 8, "complaint, improvement, 3 follow-ups, 3 surveys: kept"
        old = [c for c in contacts if c.contact_id != "c60"]
        dump = repr(
            [c.model_dump() for c in old]
            + [e.model_dump() for e in timeline if e.contact_id != "c60"]
            + [p.model_dump() for p in people if p.name != "Robin Recent"]
            + casework_rows
        )
        for pii in ("Jordan", "jordan@", "+6141", "sam@", "kim@", "noreply@", "lee@"):
            assert pii.casefold() not in dump.casefold(), pii
        assert all(c.deidentified_at is not None for c in old)
        assert [i.value for i in identities] == ["robin@example.net"], "only the recent one left"
        assert figures["average_handle_time"] == 218.0, "what the KPIs need is kept"
        async with recording.runtime.transaction() as tx:
            [again] = await retention.run(tx, now=T0 + timedelta(days=7 * 365, hours=2))
        assert (again.contacts, again.customers) == (0, 0), "a second run has nothing to do"


async def test_contacts_of_a_period_are_read_a_page_at_a_time(tmp_path: Path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path, prepare=_seeded) as recording:
        for event in [e for story in _stories() for e in story.events]:
            await recording.deliver(event)
        async with await recording.session() as session:
            pages = [
                [c.contact_id for c in page]
                async for page in store.contacts_between(
                    session, tenant_id="acme", start=T0, end=PERIOD.end, page=3
                )
            ]
        assert pages == [["c1", "c2", "c3"], ["c4", "c5", "c6"], ["c7", "c8", "c9"]]
