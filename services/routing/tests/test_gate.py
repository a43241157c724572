"""The DNC gate's wiring: decisions recorded and answered; an unreadable register blocks."""

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import select

from switchboard.common.compliance import register
from switchboard.common.compliance.register import DncDecision, WashedNumber
from switchboard.common.envelope import Envelope
from switchboard.common.events.outbound import OutboundRequested
from switchboard.common.testing import service_under_test
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


async def test_registered_numbers_are_blocked_and_every_decision_recorded(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
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
