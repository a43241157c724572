"""Knowledge for agents: search ranked by relevance, articles suggested for a contact from its
words and queue, a queue's scripts, and which article was used on which contact. Administrators
write articles, or load one from a PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from switchboard.catalogue import importing, search_store, store
from switchboard.catalogue.context import Catalogue
from switchboard.catalogue.store import ArticleUse, CatalogueArticle
from switchboard.common.auth import EVERYONE, Actor, Who, may, policy
from switchboard.common.catalogue_config import ArticleConfig
from switchboard.common.envelope import Envelope
from switchboard.common.events.catalogue import ArticleUsed

router = APIRouter(
    prefix="/v1/knowledge",
    tags=["knowledge"],
    dependencies=[policy(read=EVERYONE, write=("agent", "team_leader"))],
)
MAX_PDF = 20 * 1024 * 1024
CONTACT_ID = r"^[0-9a-f-]{36}$"
QUEUE_BOOST = 1.25
"""How much more a suggestion counts when the article is written for the contact's queue: enough
to win a near tie, not to put a weak match over a strong one."""


def current(article: CatalogueArticle, today: date) -> bool:
    """A campaign brief counts only between its dates; other knowledge always."""
    spec = article.spec
    starts, ends = spec.get("starts_on"), spec.get("ends_on")
    return not (
        (starts and date.fromisoformat(starts) > today)
        or (ends and date.fromisoformat(ends) < today)
    )


def summary(article: CatalogueArticle, words: list[str], rank: float | None) -> dict[str, Any]:
    spec = article.spec
    return {
        "article_id": article.article_id,
        "version": article.version,
        "kind": article.kind,
        "title": article.title,
        "queues": spec.get("queues", []),
        "excerpt": search_store.excerpt(search_store.readable_text(article), words),
        "rank": None if rank is None else round(rank, 4),
    }


async def _ranked(
    request: Request,
    tenant_id: str,
    words: list[str],
    *,
    limit: int,
    kind: str | None,
    include_past: bool,
) -> list[tuple[CatalogueArticle, float]]:
    today = date.today()
    async with Catalogue.of(request).runtime.db.reader() as session:
        hits = await search_store.search(session, tenant_id=tenant_id, words=words, limit=limit * 3)
        rows = {
            a.article_id: a
            for a in await store.articles(
                session, tenant_id=tenant_id, article_ids=[h.article_id for h in hits]
            )
        }
    found = [(rows[h.article_id], h.rank) for h in hits if h.article_id in rows]
    return [
        (a, rank)
        for a, rank in found
        if (kind is None or a.kind == kind) and (include_past or current(a, today))
    ][:limit]


@router.get("/search")
async def search_knowledge(
    who: Who,
    request: Request,
    q: str = Query(min_length=1, max_length=500),
    kind: Literal["article", "brief", "script"] | None = None,
    limit: int = Query(10, ge=1, le=50),
    include_past: bool = False,
) -> dict[str, Any]:
    """Articles, briefs and scripts matching the words of `q`, the most relevant first (campaign
    briefs outside their dates only with `include_past`)."""
    words = search_store.terms(q)
    ranked = await _ranked(
        request, who.tenant_id, words, limit=limit, kind=kind, include_past=include_past
    )
    return {"query": q, "words": words, "results": [summary(a, words, r) for a, r in ranked]}


class ContactText(BaseModel):
    text: str = Field(default="", max_length=100_000)
    """The contact's subject and text."""
    queue_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=5, ge=1, le=20)


@router.post("/suggest")
async def suggest(body: ContactText, who: Who, request: Request) -> dict[str, Any]:
    """Knowledge for the contact in front of the agent: articles matching its most telling words
    (those written for its queue a little ahead), and its queue's scripts."""
    words = search_store.terms(body.text, most=8)
    ranked = await _ranked(
        request, who.tenant_id, words, limit=body.limit * 2, kind=None, include_past=False
    )
    ranked = sorted(
        (
            (a, r * (QUEUE_BOOST if body.queue_id in a.spec.get("queues", []) else 1))
            for a, r in ranked
            if a.kind != "script"
        ),
        key=lambda pair: -pair[1],
    )
    async with Catalogue.of(request).runtime.db.reader() as session:
        scripts = (
            await store.articles(
                session, tenant_id=who.tenant_id, kind="script", queue_id=body.queue_id
            )
            if body.queue_id
            else []
        )
    return {
        "words": words,
        "articles": [summary(a, words, r) for a, r in ranked[: body.limit]],
        "scripts": [{**summary(s, words, None), "steps": s.spec["steps"]} for s in scripts],
    }


@router.get("/articles/{article_id}")
async def article(article_id: str, who: Who, request: Request) -> dict[str, Any]:
    async with Catalogue.of(request).runtime.db.reader() as session:
        row = await store.current_article(session, tenant_id=who.tenant_id, article_id=article_id)
        used = (await store.uses(session, tenant_id=who.tenant_id)).get(article_id, 0)
    if row is None:
        raise HTTPException(404, "no such article")
    return {
        **row.spec,
        "version": row.version,
        "source": row.source,
        "uses": used,
        "since": row.created_at.isoformat(),
    }


async def _keep(
    request: Request, who: Actor, article: ArticleConfig, source: str | None
) -> dict[str, Any]:
    async with Catalogue.of(request).runtime.transaction() as tx:
        row, changed = await store.keep_article(
            tx.session, tenant_id=who.tenant_id, article=article, source=source
        )
        if changed:
            await search_store.index(tx.session, row)
    return {"article_id": row.article_id, "version": row.version, "changed": changed}


@router.put("/articles/{article_id}", dependencies=[may("administrator")])
async def put_article(
    article_id: str, body: ArticleConfig, who: Who, request: Request
) -> dict[str, Any]:
    """Write an article, brief or script (a change is a new version)."""
    if body.id != article_id:
        raise HTTPException(422, "the body's id is not the path's")
    return await _keep(request, who, body, None)


@router.put("/articles/{article_id}/pdf", dependencies=[may("administrator")])
async def put_pdf(
    article_id: str,
    who: Who,
    request: Request,
    title: str = Query(min_length=1, max_length=300),
    kind: Literal["article", "brief"] = "article",
    queues: Annotated[list[str] | None, Query()] = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """An article whose text is read from the PDF sent as the body (`application/pdf`)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/pdf":
        raise HTTPException(415, "send the PDF as application/pdf")
    document = await request.body()
    if len(document) > MAX_PDF:
        raise HTTPException(413, f"a PDF is at most {MAX_PDF // 1024 // 1024} MB")
    text = importing.pdf_text(document)
    article = ArticleConfig(id=article_id, kind=kind, title=title, body=text, queues=queues or [])
    return await _keep(request, who, article, (filename or f"{article_id}.pdf")[:300])


class Used(BaseModel):
    contact_id: str = Field(pattern=CONTACT_ID)


@router.post("/articles/{article_id}/used", status_code=202)
async def used(article_id: str, body: Used, who: Who, request: Request) -> dict[str, Any]:
    """The agent used this article on the contact: on the contact's timeline (once)."""
    agent = who.agent_id or who.person
    async with Catalogue.of(request).runtime.transaction() as tx:
        row = await store.current_article(
            tx.session, tenant_id=who.tenant_id, article_id=article_id
        )
        if row is None:
            raise HTTPException(404, "no such article")
        first = await store.use_article(
            tx.session,
            use=ArticleUse(
                tenant_id=who.tenant_id,
                contact_id=body.contact_id,
                article_id=article_id,
                version=row.version,
                agent_id=agent[:64],
            ),
        )
        if first:
            payload = ArticleUsed(
                article_id=article_id, version=row.version, title=row.title, agent_id=agent[:64]
            )
            await tx.emit(
                Envelope.about_contact(payload, tenant_id=who.tenant_id, contact_id=body.contact_id)
            )
    return {"article_id": article_id, "contact_id": body.contact_id, "recorded": first}
