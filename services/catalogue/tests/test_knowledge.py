"""Knowledge search over a seeded knowledge base returns the expected article first, on SQLite
(FTS5) and PostgreSQL (text search); PDFs are read into articles; suggestions follow the
contact's words and queue; campaign briefs count only between their dates; a use is recorded
once on the contact."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import yaml

from switchboard.cli.samples import text_pdf

Running = Any
TODAY = date.today()
ARTICLES = [
    (
        "moving-house",
        "Moving house with Acme",
        "To move the electricity account to a new address "
        "we need the move-in date and the new address. Connection at the new home is booked for "
        "the move-in date.",
        ["general"],
    ),
    (
        "battery",
        "Solar batteries explained",
        "A home battery stores solar power for the evening "
        "and keeps essential circuits running during a blackout.",
        ["general"],
    ),
    (
        "hardship",
        "Hardship and payment plans",
        "Customers who cannot pay their bill can pay in "
        "instalments. Offer a payment plan before any disconnection.",
        ["billing"],
    ),
    (
        "wires",
        "Fallen wires and outages",
        "If wires are down in the street keep 8 metres away "
        "and call emergency services. Check the outage map.",
        [],
    ),
    (
        "meter-day",
        "Smart meter installation day",
        "The technician replaces the meter and the power is off for up to an hour.",
        [],
    ),
    (
        "cooling-off",
        "Cooling-off period",
        "A customer who signs a contract on the phone may "
        "cancel it within 10 business days without penalty.",
        [],
    ),
    (
        "concessions",
        "Concessions and rebates",
        "Pensioners and health care card holders get an energy rebate on their bill.",
        ["billing"],
    ),
    (
        "solar-feed-in",
        "Solar feed-in tariffs",
        "Customers with rooftop solar panels are paid a "
        "feed-in tariff for power they export to the grid.",
        [],
    ),
]
QUERIES = [
    ("moving to a new house next month", "moving-house"),
    ("battery to keep the lights on in a blackout", "battery"),
    ("I can't pay my bill, can I pay in instalments?", "hardship"),
    ("there are wires down in my street", "wires"),
    ("when the technician installs the smart meter", "meter-day"),
    ("can I cancel the contract within the cooling-off period", "cooling-off"),
    ("pensioner rebate", "concessions"),
    ("feed-in tariff for my rooftop panels", "solar-feed-in"),
]


async def _seed(running: Running) -> None:
    body = {"articles": [{"id": i, "title": t, "body": b, "queues": q} for i, t, b, q in ARTICLES]}
    counts = await running.ok(
        "POST",
        "/v1/catalogue/import",
        running.admin,
        content=yaml.safe_dump(body),
        content_type="application/yaml",
    )
    assert counts["articles"] == {"new_versions": len(ARTICLES), "unchanged": 0}


@pytest.mark.parametrize(("query", "expected"), QUERIES)
async def test_search_returns_the_expected_article_first(
    running: Running, query: str, expected: str
) -> None:
    await _seed(running)
    found = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": query}
    )
    assert found["results"], found
    assert found["results"][0]["article_id"] == expected, found["results"]
    ranks = [r["rank"] for r in found["results"]]
    assert ranks == sorted(ranks, reverse=True)


async def test_words_are_never_read_as_query_syntax(running: Running) -> None:
    await _seed(running)
    for hostile in ('"unbalanced', "NEAR(a b)", "bill AND OR NOT", "a:b* ^x", "' OR 1=1 --"):
        answer = await running.http.get(
            "/v1/knowledge/search", headers=running.person("amy"), params={"q": hostile}
        )
        assert answer.status_code == 200, (hostile, answer.text)
    found = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": "bill OR"}
    )
    assert {r["article_id"] for r in found["results"]} >= {"hardship", "concessions"}


async def test_a_pdf_becomes_a_searchable_article_and_a_change_a_new_version(
    running: Running,
) -> None:
    await _seed(running)
    pdf = text_pdf(
        [
            "Heat pump hot water systems",
            "A heat pump heats water with a third of",
            "the electricity of an element heater.",
        ]
    )
    put = await running.ok(
        "PUT",
        "/v1/knowledge/articles/heat-pump/pdf",
        running.admin,
        content=pdf,
        params={"title": "Heat pump hot water", "filename": "heat-pump.pdf"},
        content_type="application/pdf",
    )
    assert (put["version"], put["changed"]) == (1, True)
    found = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": "heat pump water"}
    )
    assert found["results"][0]["article_id"] == "heat-pump"
    article = await running.ok("GET", "/v1/knowledge/articles/heat-pump", running.person("amy"))
    assert "third of" in article["body"] and article["source"] == "heat-pump.pdf"
    await running.refused(
        "PUT",
        "/v1/knowledge/articles/x/pdf",
        running.admin,
        422,
        content=b"%PDF-1.4 no",
        params={"title": "Broken"},
        content_type="application/pdf",
    )
    await running.refused(
        "PUT",
        "/v1/knowledge/articles/x/pdf",
        running.person("amy"),
        403,
        content=pdf,
        params={"title": "Not an admin"},
        content_type="application/pdf",
    )
    # The same again: no new version; a changed body: version 2, and the index follows it.
    again = {
        "id": "wires",
        "title": "Fallen wires and outages",
        "body": "Stay clear of sparking poles; a crew makes them safe.",
    }
    assert (await running.ok("PUT", "/v1/knowledge/articles/wires", running.admin, json=again))[
        "version"
    ] == 2
    found = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": "sparking poles"}
    )
    assert [r["article_id"] for r in found["results"]] == ["wires"]
    gone = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": "emergency services"}
    )
    assert "wires" not in [r["article_id"] for r in gone["results"]]


async def test_suggestions_briefs_scripts_and_a_use_on_the_contact(running: Running) -> None:
    await _seed(running)
    brief = {
        "articles": [
            {
                "id": "now",
                "kind": "brief",
                "title": "Battery campaign",
                "body": "$500 off a battery",
                "starts_on": (TODAY - timedelta(days=3)).isoformat(),
                "ends_on": (TODAY + timedelta(days=30)).isoformat(),
            },
            {
                "id": "past",
                "kind": "brief",
                "title": "Old battery campaign",
                "body": "battery deal",
                "ends_on": (TODAY - timedelta(days=1)).isoformat(),
            },
            {
                "id": "sales",
                "kind": "script",
                "title": "Selling",
                "queues": ["general"],
                "steps": [
                    {"step": "greeting", "text": "Hello"},
                    {"step": "regulatory", "text": "Cooling-off: 10 days."},
                ],
            },
        ]
    }
    await running.ok(
        "POST",
        "/v1/catalogue/import",
        running.admin,
        content=yaml.safe_dump(brief),
        content_type="application/yaml",
    )
    found = await running.ok(
        "GET", "/v1/knowledge/search", running.person("amy"), params={"q": "battery"}
    )
    ids = [r["article_id"] for r in found["results"]]
    assert "now" in ids and "past" not in ids
    with_past = await running.ok(
        "GET",
        "/v1/knowledge/search",
        running.person("amy"),
        params={"q": "battery", "include_past": "true"},
    )
    assert "past" in [r["article_id"] for r in with_past["results"]]

    text = "Subject: bill\n\nHi, I am a pensioner and my bill is too high. Is there a rebate?"
    suggested: dict[str, Any] = await running.ok(
        "POST",
        "/v1/knowledge/suggest",
        running.person("amy"),
        json={"text": text, "queue_id": "billing"},
    )
    assert suggested["articles"][0]["article_id"] == "concessions"
    general = await running.ok(
        "POST",
        "/v1/knowledge/suggest",
        running.person("amy"),
        json={"text": "a battery please", "queue_id": "general"},
    )
    assert [s["article_id"] for s in general["scripts"]] == ["sales"]
    assert [s["step"] for s in general["scripts"][0]["steps"]] == ["greeting", "regulatory"]

    for _ in range(2):
        used = await running.ok(
            "POST",
            "/v1/knowledge/articles/concessions/used",
            running.person("amy"),
            json={"contact_id": running.contact},
        )
    assert used["recorded"] is False  # the second time
    events = await running.emitted("knowledge.used")
    assert len(events) == 1 and events[0]["contact_id"] == running.contact
    assert events[0]["payload"]["title"] == "Concessions and rebates"
    assert (await running.ok("GET", "/v1/knowledge/articles/concessions", running.person("amy")))[
        "uses"
    ] == 1
    # Another tenant sees none of it.
    globex = running.person("gus", tenant="globex")
    assert (await running.ok("GET", "/v1/knowledge/search", globex, params={"q": "rebate"}))[
        "results"
    ] == []
    await running.refused("GET", "/v1/knowledge/articles/concessions", globex, 404)
