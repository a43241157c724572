"""The DNC gate's wiring: decisions recorded and answered; an unreadable register blocks; a batch's
numbers are read from the register together, with the same decisions."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from switchboard.common.compliance import register
from switchboard.common.compliance.register import DncDecision, WashedNumber
from switchboard.common.envelope import Envelope
from switchboard.common.events.outbound import OutboundRequested
from switchboard.common.testing import service_under_test, statements_run
from switchboard.routing import gate
from switchboard.routing.handlers import SERVICE, subscriptions

TUESDAY_11AM_SYDNEY = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def _request(number: str) -> Envelope[OutboundRequested]:
    payload = OutboundRequested(
        request_id=f"r-{number}",
        channel="call",
        number=number,
        purpose="marketing",
        requested_by="agent:1",
        not_before=TUESDAY_11AM_SYDNEY,
    )
    return Envelope.first(payload, tenant_id="acme", aggregate_id=payload.request_id)


async def _wash(routing: Any) -> None:
    """02 5550 1234 is on the register, 02 5550 1235 is not, 02 5550 1236 was never washed."""
    async with routing.runtime.db.session() as session:
        washed = date(2026, 11, 20)
        await register.import_wash(
            session,
            tenant_id="acme",
            rows=[
                WashedNumber(
                    tenant_id="", number="+61255501234", registered=True, washed_on=washed
                ),
                WashedNumber(
                    tenant_id="", number="+61255501235", registered=False, washed_on=washed
                ),
            ],
        )


async def test_registered_numbers_are_blocked_and_every_decision_recorded(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        await _wash(routing)
        for number in ("02 5550 1234", "02 5550 1235", "+61 2 5550 1236", "not a number"):
            await routing.deliver(_request(number))
        answers = {
            e["payload"]["request_id"]: (e["event_type"], e["payload"]["reason"])
            for e in await routing.outbox()
        }
        assert answers == {
            "r-02 5550 1234": ("outbound.blocked", "number is on the Do Not Call Register"),
            "r-02 5550 1235": (
                "outbound.cleared",
                "not on the Do Not Call Register (washed 2026-11-20)",
            ),
            "r-+61 2 5550 1236": (
                "outbound.blocked",
                "number never washed against the Do Not Call Register",
            ),
            "r-not a number": ("outbound.blocked", "'not a number' is not a phone number"),
        }
        async with await routing.session() as session:
            assert len((await session.exec(select(DncDecision))).all()) == 4


async def test_a_register_that_cannot_be_read_blocks(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        async with routing.runtime.db.session() as session:
            await session.exec(text("DROP TABLE dnc_washed_number"))  # type: ignore[call-overload]
        await routing.deliver(_request("02 5550 1234"))
        [answer] = await routing.outbox()
        assert answer["event_type"] == "outbound.blocked"
        assert answer["payload"]["reason"].startswith("the register could not be read")


async def test_a_batch_is_decided_from_one_read_of_the_register(tmp_path) -> None:
    """Read ahead, a batch's requests ask the database nothing more, and are decided as a request
    alone is (a number asked for twice, a consent, an unreadable number among them)."""
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        await _wash(routing)
        async with routing.runtime.db.session() as session:
            await register.add_consent(
                session,
                tenant_id="acme",
                number="+61255501234",
                source="web form",
                given_on=date(2026, 1, 1),
                expires_on=None,
            )
        numbers = ("02 5550 1234", "02 5550 1235", "02 5550 1234", "02 5550 1236", "not a number")
        batch = [_request(number) for number in numbers]
        alone = []
        for request in batch:
            async with routing.runtime.db.session() as session:
                alone.append(await gate.decide_outbound(session, request))
                await session.rollback()

        async with routing.runtime.db.session() as session:
            await gate.read_ahead(session, batch)
            with statements_run(routing.runtime.db.engine) as statements:
                together = [await gate.decide_outbound(session, request) for request in batch]
        assert statements == []
        assert together == alone
        assert [answer.reason for answer in together[:2]] == [
            "express consent (web form, until withdrawn)",
            "not on the Do Not Call Register (washed 2026-11-20)",
        ]


async def test_a_numbers_newest_wash_stands_whatever_order_the_files_come_in(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        await _wash(routing)  # 1234 registered, 1235 not, both washed 2026-11-20

        def wash(number: str, registered: bool, day: int) -> WashedNumber:
            return WashedNumber(
                tenant_id="", number=number, registered=registered, washed_on=date(2026, 11, day)
            )

        async with routing.runtime.db.session() as session:
            await register.import_wash(
                session,
                tenant_id="acme",
                rows=[
                    wash("+61255501234", False, 1),  # older: kept out
                    wash("+61255501235", True, 27),  # newer: replaces
                    wash("+61255501236", True, 27),  # new
                ],
            )
        async with await routing.session() as session:
            rows = (await session.exec(select(WashedNumber))).all()
        assert sorted((r.number, r.registered, r.washed_on.day) for r in rows) == [
            ("+61255501234", True, 20),
            ("+61255501235", True, 27),
            ("+61255501236", True, 27),
        ]
