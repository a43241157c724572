"""Full-text search of a tenant's knowledge, ranked by relevance: SQLite FTS5 (BM25) on the
embedded default, PostgreSQL's text search (`tsvector`, `ts_rank`) in production. The index,
`catalogue_search`, holds one row per current article, its title weighted over its body; its table
is made by the migration for each database (it is not a model)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.catalogue.store import CatalogueArticle

MAX_TERMS = 12
ENGLISH_STOPWORDS = """
a about above after again all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor
not now of off on once only or other our ours out over own please same she should so some such
than that the their them then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours hi hello dear
thanks thank regards kind yes get got want would like need know
"""
STOPWORDS = frozenset(ENGLISH_STOPWORDS.split())


@dataclass(frozen=True)
class Hit:
    article_id: str
    rank: float
    """Higher is more relevant (comparable only within one search)."""


def terms(typed: str, *, most: int = MAX_TERMS) -> list[str]:
    """The words worth searching for in `typed`, the most frequent first (a query is built from
    these words only, so nothing typed is ever read as query syntax)."""
    words = [w for w in re.findall(r"[^\W_]+", typed.lower()) if len(w) > 1 and w not in STOPWORDS]
    return [w for w, _ in Counter(words).most_common(most)]


def readable_text(article: CatalogueArticle) -> str:
    """What an agent reads of the article: its body and its script's steps."""
    spec = article.spec
    return " ".join((spec.get("body", ""), *(step["text"] for step in spec.get("steps", []))))


def indexed_text(article: CatalogueArticle) -> str:
    """What the index holds besides the title: the readable text and the tags."""
    return " ".join((readable_text(article), *article.spec.get("tags", [])))


def _postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def index(session: AsyncSession, article: CatalogueArticle) -> None:
    """Put the article's current version in the index (replacing the one before)."""
    keys = {"tenant_id": article.tenant_id, "article_id": article.article_id}
    await (await session.connection()).execute(
        text(
            "DELETE FROM catalogue_search WHERE tenant_id = :tenant_id AND article_id = :article_id"
        ),
        keys,
    )
    values = {**keys, "title": article.title, "body": indexed_text(article)}
    if _postgres(session):
        await (await session.connection()).execute(
            text(
                "INSERT INTO catalogue_search (tenant_id, article_id, document) VALUES (:tenant_id, "
                ":article_id, setweight(to_tsvector('english', :title), 'A') || "
                "setweight(to_tsvector('english', :body), 'B'))"
            ),
            values,
        )
    else:
        await (await session.connection()).execute(
            text(
                "INSERT INTO catalogue_search (tenant_id, article_id, title, body) "
                "VALUES (:tenant_id, :article_id, :title, :body)"
            ),
            values,
        )


async def search(
    session: AsyncSession, *, tenant_id: str, words: list[str], limit: int
) -> list[Hit]:
    """Articles matching any of `words`, the most relevant first (more of the words, rarer words,
    words in the title)."""
    if not words:
        return []
    if _postgres(session):
        rows = await (await session.connection()).execute(
            text(
                "SELECT article_id, ts_rank(document, query) AS rank "
                "FROM catalogue_search, to_tsquery('english', :query) AS query "
                "WHERE tenant_id = :tenant_id AND document @@ query "
                "ORDER BY rank DESC, article_id LIMIT :limit"
            ),
            {"query": " | ".join(words), "tenant_id": tenant_id, "limit": limit},
        )
        return [Hit(article_id, float(rank)) for article_id, rank in rows.all()]
    rows = await (await session.connection()).execute(
        text(
            "SELECT article_id, bm25(catalogue_search, 0, 0, 5.0, 1.0) AS rank "
            "FROM catalogue_search WHERE catalogue_search MATCH :query AND tenant_id = :tenant_id "
            "ORDER BY rank, article_id LIMIT :limit"
        ),
        {"query": " OR ".join(f'"{w}"' for w in words), "tenant_id": tenant_id, "limit": limit},
    )
    return [Hit(article_id, -float(rank)) for article_id, rank in rows.all()]


def excerpt(body: str, words: list[str], width: int = 240) -> str:
    """A piece of `body` around the first of `words` it holds (its start when none)."""
    lowered = body.lower()
    found = [i for i in (lowered.find(w) for w in words) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = " ".join(body[start : start + width].split())
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")
