"""The product catalogue: what each queue sells, a product's versions, and imports (YAML or CSV)
by an administrator. Agents read it through the desktop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from switchboard.catalogue import importing, search_store, store
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.domain import Refused
from switchboard.catalogue.store import CatalogueProduct
from switchboard.common.auth import EVERYONE, Who, may, policy

router = APIRouter(prefix="/v1", tags=["catalogue"], dependencies=[policy(read=EVERYONE, write=())])
MAX_IMPORT = 5 * 1024 * 1024


def product_view(row: CatalogueProduct) -> dict[str, Any]:
    return {**row.spec, "version": row.version, "since": row.created_at.isoformat()}


@router.get("/products")
async def products(who: Who, request: Request, queue_id: str | None = None) -> dict[str, Any]:
    """The products on sale (those a queue sells, with `queue_id`), with their plans and rules."""
    async with Catalogue.of(request).runtime.db.reader() as session:
        rows = await store.products(session, tenant_id=who.tenant_id)
        rules = await store.tenant_rules(session, tenant_id=who.tenant_id)
    shown = [
        r
        for r in rows
        if not r.spec.get("retired")
        and (queue_id is None or not r.spec["queues"] or queue_id in r.spec["queues"])
    ]
    return {"currency": rules.currency, "products": [product_view(r) for r in shown]}


@router.get("/products/{product_id}")
async def product(product_id: str, who: Who, request: Request) -> dict[str, Any]:
    """A product as it is now, and each version it has had."""
    async with Catalogue.of(request).runtime.db.reader() as session:
        versions = await store.product_versions(
            session, tenant_id=who.tenant_id, product_id=product_id
        )
    if not versions:
        raise HTTPException(404, "no such product")
    return {
        **product_view(versions[-1]),
        "versions": [
            {"version": v.version, "since": v.created_at.isoformat(), "name": v.name}
            for v in versions
        ],
    }


@router.post("/catalogue/import", dependencies=[may("administrator")])
async def import_catalogue(who: Who, request: Request) -> dict[str, Any]:
    """Products and articles from YAML (`Content-Type: application/yaml`) or products from CSV
    (`text/csv`). A product or article that changed gets a new version; the same again, none."""
    body = await request.body()
    if len(body) > MAX_IMPORT:
        raise HTTPException(413, f"an import is at most {MAX_IMPORT // 1024 // 1024} MB")
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("an import is UTF-8 text") from None
    if kind == "text/csv":
        parsed = importing.from_csv(text)
    elif kind in ("application/yaml", "application/x-yaml", "text/yaml"):
        parsed = importing.from_yaml(text)
    else:
        raise HTTPException(415, "send application/yaml or text/csv")
    counts = {
        "products": {"new_versions": 0, "unchanged": 0},
        "articles": {"new_versions": 0, "unchanged": 0},
    }
    async with Catalogue.of(request).runtime.transaction() as tx:
        for item in parsed.products:
            _, changed = await store.keep_product(tx.session, tenant_id=who.tenant_id, product=item)
            counts["products"]["new_versions" if changed else "unchanged"] += 1
        for article in parsed.articles:
            row, changed = await store.keep_article(
                tx.session, tenant_id=who.tenant_id, article=article
            )
            if changed:
                await search_store.index(tx.session, row)
            counts["articles"]["new_versions" if changed else "unchanged"] += 1
    return counts
