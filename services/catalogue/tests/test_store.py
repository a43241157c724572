"""The catalogue's store contract, on SQLite and PostgreSQL: products versioned only when they
change (an order keeps the version it was priced on), an article counted once per contact, and
orders followed and erased."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from switchboard.catalogue import store
from switchboard.common.catalogue_config import ProductConfig
from switchboard.common.db import Database


def _order(order_id: str, **fields: Any) -> store.CatalogueOrder:
    defaults: dict[str, Any] = {
        "tenant_id": "acme",
        "contact_id": "c-1",
        "agent_id": "amy",
        "author": "amy",
        "author_roles": ["agent"],
        "customer": {"name": "Jordan"},
    }
    return store.CatalogueOrder(order_id=order_id, **{**defaults, **fields})


async def test_a_product_gets_a_version_only_when_it_changes(database: Database) -> None:
    modem = ProductConfig(id="modem", name="Modem", price=Decimal("99"))
    async with database.session() as session:
        first, made = await store.keep_product(session, tenant_id="acme", product=modem)
        assert (first.version, made) == (1, True)
        same, made = await store.keep_product(session, tenant_id="acme", product=modem)
        assert (same.version, made) == (1, False)
        dearer = modem.model_copy(update={"price": Decimal("119")})
        second, made = await store.keep_product(session, tenant_id="acme", product=dearer)
        assert (second.version, made) == (2, True)
    async with database.reader() as session:
        current = await store.current_product(session, tenant_id="acme", product_id="modem")
        priced = await store.priced_versions(
            session, tenant_id="acme", keys=[("modem", 1), ("modem", 2)]
        )
        other_tenant = await store.priced_versions(session, tenant_id="globex", keys=[("modem", 1)])
    assert current is not None and current.version == 2
    assert sorted((p.version, p.product.price) for p in priced) == [(1, 99), (2, 119)]
    assert other_tenant == []


async def test_an_article_is_counted_once_per_contact(database: Database) -> None:
    def use(contact_id: str) -> store.ArticleUse:
        return store.ArticleUse(
            tenant_id="acme", contact_id=contact_id, article_id="reset", version=1, agent_id="amy"
        )

    async with database.session() as session:
        assert await store.use_article(session, use=use("c-1"))
    async with database.session() as session:
        assert not await store.use_article(session, use=use("c-1"))
        assert await store.use_article(session, use=use("c-2"))
    async with database.reader() as session:
        assert await store.uses(session, tenant_id="acme") == {"reset": 2}


async def test_an_orders_installation_job_is_followed_and_its_customer_erased(
    database: Database,
) -> None:
    async with database.session() as session:
        session.add(_order("o-1", job_id="job-1"))
        session.add(_order("o-2", job_id="job-2", contact_id="c-2"))
        session.add(
            store.RetentionAttempt(
                attempt_id="r-1",
                tenant_id="acme",
                contact_id="c-1",
                agent_id="amy",
                offer_id="loyalty",
                name="Jordan",
                reason="price",
                tenure_months=30,
                monthly_value_cents=5000,
                answer="accepted",
            )
        )
    async with database.session() as session:
        await store.job_changed(session, job_id="job-1", status="completed")
        assert await store.erase_retention_names(session, contact_ids=["c-1"]) == 1
    async with database.reader() as session:
        followed = await store.order(session, tenant_id="acme", order_id="o-1")
        untouched = await store.order(session, tenant_id="acme", order_id="o-2")
        foreign = await store.order(session, tenant_id="globex", order_id="o-1")
        of_contact = await store.orders_of_contacts(session, contact_ids=["c-1"], tenant_id="acme")
        by_contact = await store.orders(session, tenant_id="acme", contact_id="c-2")
        attempt = await session.get(store.RetentionAttempt, "r-1")
    assert followed is not None and followed.job_status == "completed"
    assert untouched is not None and untouched.job_status != "completed"
    assert foreign is None
    assert [o.order_id for o in of_contact] == ["o-1"]
    assert [o.order_id for o in by_contact] == ["o-2"]
    assert attempt is not None and attempt.name != "Jordan"
