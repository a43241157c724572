"""The catalogue's tables and queries. Products and articles are versioned (an order keeps the
version it was priced on; an import that changes nothing adds no version); the search index is
`search_store.py`'s."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, Text, func, tuple_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.catalogue_config import ArticleConfig, CatalogueConfig, ProductConfig
from switchboard.common.centre import CentreConfig
from switchboard.common.envelope import utcnow
from switchboard.common.privacy import ERASED


class CatalogueTenant(SQLModel, table=True):
    """A tenant's selling rules: currency, reasons for leaving, retention offers, discount limits."""

    __tablename__ = "catalogue_tenant"

    tenant_id: str = Field(primary_key=True, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    @property
    def rules(self) -> CatalogueConfig:
        return CatalogueConfig.model_validate(self.config)


class CatalogueProduct(SQLModel, table=True):
    __tablename__ = "catalogue_product"

    tenant_id: str = Field(primary_key=True, max_length=64)
    product_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    current: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def product(self) -> ProductConfig:
        return ProductConfig.model_validate(self.spec)


class CatalogueArticle(SQLModel, table=True):
    __tablename__ = "catalogue_article"

    tenant_id: str = Field(primary_key=True, max_length=64)
    article_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=300)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, max_length=300)
    """Where its text came from, when not typed in (the PDF's file name)."""
    digest: str = Field(max_length=64)
    current: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def article(self) -> ArticleConfig:
        return ArticleConfig.model_validate(self.spec)


class ArticleUse(SQLModel, table=True):
    """An article used on a contact (once per contact and article)."""

    __tablename__ = "catalogue_article_use"

    tenant_id: str = Field(primary_key=True, max_length=64)
    contact_id: str = Field(primary_key=True, max_length=36)
    article_id: str = Field(primary_key=True, max_length=64)
    version: int
    agent_id: str = Field(max_length=64)
    used_at: datetime = Field(default_factory=utcnow)


class CatalogueOrder(SQLModel, table=True):
    """An order built with the customer on a contact. Payment keeps a provider's token and the
    card's brand and last four digits: never the number or the security code."""

    __tablename__ = "catalogue_order"

    order_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=64)
    author: str = Field(max_length=200)
    author_roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=32, index=True)
    customer: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """name, phone, type (residential/business), state."""
    lines: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    discount_percent: float = 0.0
    discount_reason: str | None = Field(default=None, sa_column=Column(Text))
    total_cents: int = 0
    monthly_cents: int = 0
    currency: str = Field(default="AUD", max_length=3)
    supply: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    payment: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    credit: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    approval: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    agreement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    job_id: str | None = Field(default=None, max_length=36, index=True)
    job_status: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    placed_at: datetime | None = None


class RetentionAttempt(SQLModel, table=True):
    """A retention offer made to a customer who wanted to leave, with what was known of them and
    their answer."""

    __tablename__ = "catalogue_retention"

    attempt_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    contact_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=64)
    offer_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    reason: str = Field(max_length=64)
    tenure_months: int
    monthly_value_cents: int
    contract_ends: date | None = None
    answer: str = Field(max_length=16)
    at: datetime = Field(default_factory=utcnow)


def _digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    """Each tenant's selling rules, products and knowledge from the centre configuration."""
    from switchboard.catalogue import search_store

    for tenant in centre.tenants:
        rules = tenant.catalogue.model_dump(mode="json", exclude={"products", "articles"})
        await session.merge(CatalogueTenant(tenant_id=tenant.id, config=rules))
        for product in tenant.catalogue.products:
            await keep_product(session, tenant_id=tenant.id, product=product)
        for article in tenant.catalogue.articles:
            row, changed = await keep_article(session, tenant_id=tenant.id, article=article)
            if changed:
                await search_store.index(session, row)


async def tenant_rules(session: AsyncSession, *, tenant_id: str) -> CatalogueConfig:
    row = await session.get(CatalogueTenant, tenant_id)
    return row.rules if row is not None else CatalogueConfig()


async def keep_product(
    session: AsyncSession, *, tenant_id: str, product: ProductConfig
) -> tuple[CatalogueProduct, bool]:
    """The product's current version, a new one when `product` differs from it."""
    spec = product.model_dump(mode="json")
    row = CatalogueProduct(
        tenant_id=tenant_id,
        product_id=product.id,
        version=1,
        name=product.name,
        spec=spec,
        digest=_digest(spec),
    )
    now = await current_product(session, tenant_id=tenant_id, product_id=product.id)
    return await _kept(session, now, row)


async def keep_article(
    session: AsyncSession, *, tenant_id: str, article: ArticleConfig, source: str | None = None
) -> tuple[CatalogueArticle, bool]:
    """The article's current version, a new one when `article` (or its source) differs."""
    spec = article.model_dump(mode="json")
    row = CatalogueArticle(
        tenant_id=tenant_id,
        article_id=article.id,
        version=1,
        kind=article.kind,
        title=article.title,
        spec=spec,
        source=source,
        digest=_digest(spec),
    )
    now = await current_article(session, tenant_id=tenant_id, article_id=article.id)
    return await _kept(session, now, row)


Versioned = TypeVar("Versioned", CatalogueProduct, CatalogueArticle)


async def _kept(
    session: AsyncSession, now: Versioned | None, row: Versioned
) -> tuple[Versioned, bool]:
    """`now` when `row` says the same; else `row`, stored as the version after `now`."""
    same_source = getattr(now, "source", None) == getattr(row, "source", None)
    if now is not None and now.digest == row.digest and same_source:
        return now, False
    if now is not None:
        now.current = False
        row.version = now.version + 1
    session.add(row)
    await session.flush()
    return row, True


async def current_product(
    session: AsyncSession, *, tenant_id: str, product_id: str
) -> CatalogueProduct | None:
    query = select(CatalogueProduct).where(
        CatalogueProduct.tenant_id == tenant_id,
        CatalogueProduct.product_id == product_id,
        col(CatalogueProduct.current),
    )
    return (await session.exec(query)).first()


async def products(session: AsyncSession, *, tenant_id: str) -> Sequence[CatalogueProduct]:
    query = (
        select(CatalogueProduct)
        .where(CatalogueProduct.tenant_id == tenant_id, col(CatalogueProduct.current))
        .order_by(col(CatalogueProduct.name))
    )
    return (await session.exec(query)).all()


async def product_versions(
    session: AsyncSession, *, tenant_id: str, product_id: str
) -> Sequence[CatalogueProduct]:
    query = (
        select(CatalogueProduct)
        .where(CatalogueProduct.tenant_id == tenant_id, CatalogueProduct.product_id == product_id)
        .order_by(col(CatalogueProduct.version))
    )
    return (await session.exec(query)).all()


async def current_article(
    session: AsyncSession, *, tenant_id: str, article_id: str
) -> CatalogueArticle | None:
    query = select(CatalogueArticle).where(
        CatalogueArticle.tenant_id == tenant_id,
        CatalogueArticle.article_id == article_id,
        col(CatalogueArticle.current),
    )
    return (await session.exec(query)).first()


async def articles(
    session: AsyncSession,
    *,
    tenant_id: str,
    article_ids: Sequence[str] | None = None,
    kind: str | None = None,
    queue_id: str | None = None,
) -> Sequence[CatalogueArticle]:
    """Current articles: all, those named, of a kind, or of a queue."""
    query = select(CatalogueArticle).where(
        CatalogueArticle.tenant_id == tenant_id, col(CatalogueArticle.current)
    )
    if article_ids is not None:
        query = query.where(col(CatalogueArticle.article_id).in_(article_ids))
    if kind is not None:
        query = query.where(CatalogueArticle.kind == kind)
    rows = (await session.exec(query.order_by(col(CatalogueArticle.title)))).all()
    if queue_id is not None:
        rows = [r for r in rows if queue_id in r.spec.get("queues", [])]
    return rows


async def use_article(session: AsyncSession, *, use: ArticleUse) -> bool:
    """Record `use`; False when this article was already used on this contact."""
    if await session.get(ArticleUse, (use.tenant_id, use.contact_id, use.article_id)):
        return False
    session.add(use)
    return True


async def uses(session: AsyncSession, *, tenant_id: str) -> dict[str, int]:
    query = (
        select(ArticleUse.article_id, func.count())
        .where(ArticleUse.tenant_id == tenant_id)
        .group_by(col(ArticleUse.article_id))
    )
    return {article_id: n for article_id, n in (await session.exec(query)).all()}


async def order(
    session: AsyncSession, *, tenant_id: str, order_id: str, for_update: bool = False
) -> CatalogueOrder | None:
    query = select(CatalogueOrder).where(
        CatalogueOrder.order_id == order_id, CatalogueOrder.tenant_id == tenant_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def orders(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    status: str | None = None,
    agent_id: str | None = None,
) -> Sequence[CatalogueOrder]:
    query = select(CatalogueOrder).where(CatalogueOrder.tenant_id == tenant_id)
    for column, value in (
        (CatalogueOrder.contact_id, contact_id),
        (CatalogueOrder.status, status),
        (CatalogueOrder.agent_id, agent_id),
    ):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(col(CatalogueOrder.created_at).desc()).limit(200)
    return (await session.exec(query)).all()


async def job_changed(session: AsyncSession, *, job_id: str, status: str) -> None:
    """Follow an order's installation job (a job no order asked for changes nothing)."""
    await (await session.connection()).execute(
        update(CatalogueOrder).where(col(CatalogueOrder.job_id) == job_id).values(job_status=status)
    )


async def retention_attempts(
    session: AsyncSession, *, tenant_id: str, contact_id: str
) -> Sequence[RetentionAttempt]:
    query = (
        select(RetentionAttempt)
        .where(RetentionAttempt.tenant_id == tenant_id, RetentionAttempt.contact_id == contact_id)
        .order_by(col(RetentionAttempt.at))
    )
    return (await session.exec(query)).all()


async def priced_versions(
    session: AsyncSession, *, tenant_id: str, keys: list[tuple[str, int]]
) -> list[CatalogueProduct]:
    """The tenant's products at the (product id, version) pairs asked for."""
    if not keys:
        return []
    query = select(CatalogueProduct).where(
        CatalogueProduct.tenant_id == tenant_id,
        tuple_(col(CatalogueProduct.product_id), col(CatalogueProduct.version)).in_(keys),
    )
    return list((await session.exec(query)).all())


async def orders_of_contacts(
    session: AsyncSession, *, contact_ids: list[str], tenant_id: str | None = None
) -> list[CatalogueOrder]:
    query = select(CatalogueOrder).where(col(CatalogueOrder.contact_id).in_(contact_ids))
    if tenant_id is not None:
        query = query.where(CatalogueOrder.tenant_id == tenant_id)
    return list(await session.exec(query))


async def erase_retention_names(session: AsyncSession, *, contact_ids: list[str]) -> int:
    """The customer's name off the retention offers made on their contacts: how many."""
    offers = await session.exec(
        update(RetentionAttempt)
        .where(col(RetentionAttempt.contact_id).in_(contact_ids))
        .values(name=ERASED)
    )
    return offers.rowcount or 0
