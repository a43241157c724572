"""Routing's wiring on FastStream's in-memory broker: contact.received in, contact.queued out."""

from datetime import UTC, datetime

from sqlmodel import select

from switchboard.common.centre import CentreConfig, QueueConfig, TenantConfig
from switchboard.common.envelope import Envelope
from switchboard.common.events.intake import ContactReceived, Party
from switchboard.common.testing import service_under_test
from switchboard.routing import store
from switchboard.routing.handlers import SERVICE, subscriptions

CENTRE = CentreConfig(
    tenants=[
        TenantConfig(
            id="acme", name="Acme", queues=[QueueConfig(id="general", name="General", default=True)]
        )
    ]
)


def _received(flags: list[str] | None = None) -> Envelope[ContactReceived]:
    payload = ContactReceived(
        channel="email",
        conversation_id="conv-1",
        received_at=datetime.now(UTC),
        destination="help@acme.example",
        external_id="m@x",
        customer=Party(email="a@example.net"),
        flags=flags or [],
    )
    return Envelope.first(payload, tenant_id="acme", aggregate_id="k-1", contact_id="k-1")


async def test_a_received_contact_is_queued_once_however_often_delivered(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        async with routing.runtime.db.session() as session:
            await store.apply_centre(session, CENTRE)
        event = _received()
        await routing.deliver(event)
        await routing.deliver(event)  # redelivered: no second effect

        async with await routing.session() as session:
            entries = (await session.exec(select(store.QueueEntry))).all()
        assert [(e.contact_id, e.queue_id) for e in entries] == [("k-1", "general")]
        [queued] = await routing.outbox()
        assert queued["event_type"] == "contact.queued"
        assert queued["causation_id"] == event.event_id
        assert queued["payload"]["queue_id"] == "general"


async def test_an_auto_reply_is_not_routed(tmp_path) -> None:
    async with service_under_test(SERVICE, subscriptions, tmp_path) as routing:
        await routing.deliver(_received(flags=["auto_reply"]))
        [event] = await routing.outbox()
        assert event["event_type"] == "contact.not_routed"
        assert "auto_reply" in event["payload"]["reason"]
