"""Workforce on a whole centre: contacts handled at the desktop become history; a forecast, the
staffing it asks for and a roster that keeps the rules; the roster published to the agents'
desktops; and an agent's real state changes measured against their rostered shift, with the
team leader told and adherence in recording's KPIs. Workforce's clock is moved to the rostered
day (only workforce reads that clock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration import loopback
from tests.integration.desk import AgentAtDesk
from tests.integration.harness import RunningCentre, until


def _get(centre: RunningCentre, path: str, **params: Any) -> Any:
    answer = loopback.get(
        centre.url("workforce", path), params=params, headers=centre.operator, timeout=30
    )
    assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
    return answer.json()


def _post(centre: RunningCentre, path: str, body: dict[str, Any], expect: int = 201) -> Any:
    answer = loopback.post(
        centre.url("workforce", path), json=body, headers=centre.operator, timeout=120
    )
    assert answer.status_code == expect, f"{path}: {answer.status_code} {answer.text}"
    return answer.json()


@pytest.fixture(scope="module")
def centre(centre: RunningCentre) -> RunningCentre:
    """A tenant of the demo's shape with the workforce demo (weeks of history, a forecast and
    this week's roster published): no other test's contacts wait in its queues to be offered
    first, and no other test meets its agents."""
    return centre.new_tenant("rostered", workforce_demo=True)


@pytest.fixture
def workforce_clock(centre: RunningCentre) -> Iterator[Any]:
    def set_clock(moment: datetime) -> None:
        centre.workforce_clock.write_text(str((moment - datetime.now(UTC)).total_seconds()))

    yield set_clock
    centre.workforce_clock.write_text("0")


@pytest.fixture
def at_desk(centre: RunningCentre) -> Iterator[Callable[[str], AgentAtDesk]]:
    """Signs a demo agent in and available; every one offline afterwards."""
    agents: list[AgentAtDesk] = []

    def sign_in(name: str) -> AgentAtDesk:
        agents.append(AgentAtDesk(centre, name))
        return agents[-1]

    yield sign_in
    for agent in agents:
        agent.post("/v1/state", {"state": "offline"})


def test_handled_contacts_become_history(
    centre: RunningCentre, at_desk: Callable[[str], AgentAtDesk]
) -> None:
    alice = at_desk("alice")
    answer = centre.post_email(centre.email(subject="About my bill", body="The invoice is wrong."))
    assert answer.status_code == 202, answer.text
    contact_id = answer.json()["contact_id"]
    alice.take(contact_id)
    alice.wrap(contact_id, "resolved")
    # The demo's generated history ends yesterday (the tenant's day): today's is this contact's.
    today = datetime.now(ZoneInfo("Australia/Sydney")).date().isoformat()

    def recorded() -> list[dict[str, Any]] | None:
        rows = _get(centre, "/v1/history", start=today, end=today)["intervals"]
        live = [
            r
            for r in rows
            if r["channel"] == "email"
            and r["queue_id"] == "billing"
            and r["handled"]
            and r["average_handle_seconds"] is not None
        ]
        return live or None

    rows = until("the handled email in the history", recorded)
    assert all(r["offered"] >= r["handled"] for r in rows)


def _demo_seeded(centre: RunningCentre) -> None:
    """Workforce seeds the demo's history, forecast and roster when it first starts."""

    def seeded() -> bool | None:
        answer = loopback.get(
            centre.url("workforce", "/v1/forecasts/latest"), headers=centre.operator, timeout=30
        )
        return answer.status_code == 200 or None

    until("the demo's forecast", seeded, timeout=90)


def test_forecast_staffing_and_a_roster_within_the_rules(centre: RunningCentre) -> None:
    _demo_seeded(centre)
    run = _post(centre, "/v1/forecasts", {})
    assert run["history_days"] >= 49  # the demo's eight weeks of history
    assert 0 <= run["accuracy"]["wape"] < 1.5 and run["accuracy"]["holdout_days"] == 7
    assert run["daily"], "no day forecast"
    busiest = max(run["daily"], key=lambda d: sum(run["daily"][d].values()))
    staffing = _get(centre, "/v1/staffing", day=busiest)
    slots = [s for queue in staffing["queues"].values() for s in queue]
    assert slots and all(s["to_schedule"] >= s["required"] for s in slots)
    assert {s["method"] for s in slots} & {
        "erlang_a",
        "erlang_c",
        "erlang_a+workload",
        "erlang_c+workload",
    }
    monday = _next_monday()
    off = {
        "start": monday.isoformat(),
        "end": (monday + timedelta(days=1)).isoformat(),
        "reason": "annual leave",
    }
    bilal = centre.agent_id("bilal")
    assert _post(centre, f"/v1/agents/{bilal}/leave", off)["days"] == 2
    _post(centre, "/v1/agents/nobody/leave", off, expect=404)
    _post(centre, f"/v1/agents/{bilal}/leave", {**off, "end": "2000-01-01"}, expect=422)
    listed = _get(centre, "/v1/leave", start=monday.isoformat(), end=off["end"])["leave"]
    assert {(x["agent_id"], x["day"]) for x in listed} >= {
        (bilal, off["start"]),
        (bilal, off["end"]),
    }
    roster = _post(centre, "/v1/rosters", {"week_start": monday.isoformat()})
    assert roster["status"] == "draft" and roster["violations"] == []
    assert not [
        s
        for s in roster["shifts"]
        if s["agent_id"] == bilal and s["day"] in (off["start"], off["end"])
    ]
    gone = loopback.delete(
        centre.url("workforce", f"/v1/agents/{bilal}/leave/{off['end']}"),
        headers=centre.operator,
        timeout=10,
    )
    assert gone.status_code == 204
    assert roster["shifts"] and roster["coverage"]
    agents = {s["agent_id"] for s in roster["shifts"]}
    assert agents <= {centre.agent_id(name) for name in ("alice", "bilal", "chen")}
    for agent in agents:
        assert sum(s["paid_minutes"] for s in roster["shifts"] if s["agent_id"] == agent) <= 38 * 60
    assert _get(centre, f"/v1/rosters/{roster['roster_id']}")["shifts"] == roster["shifts"]


def test_a_published_roster_reaches_the_desktop_and_adherence_is_measured(
    centre: RunningCentre, workforce_clock: Any, at_desk: Callable[[str], AgentAtDesk]
) -> None:
    monday = _next_monday()
    _demo_seeded(centre)
    _post(centre, "/v1/forecasts", {})
    roster = _post(centre, "/v1/rosters", {"week_start": monday.isoformat()})
    published = _post(centre, f"/v1/rosters/{roster['roster_id']}/publish", {}, expect=200)
    assert published["schedules_sent"] == 3 * 7
    names = {centre.agent_id(name): name for name in ("alice", "bilal")}
    shift = next(s for s in roster["shifts"] if s["agent_id"] in names)
    agent_id = shift["agent_id"]
    name = names[agent_id]
    agent = at_desk(name)

    def on_desktop() -> dict[str, Any] | None:
        mine = loopback.get(agent.url("/v1/schedule"), headers=agent.headers, timeout=10).json()
        day = next((d for d in mine["days"] if d["day"] == shift["day"]), None)
        return day if day and day["activities"] else None

    day = until(f"{name}'s {shift['day']} on their desktop", on_desktop)
    assert [a["kind"] for a in day["activities"]] == [a["kind"] for a in shift["activities"]]
    agent.told(
        "their schedule", lambda kind, data: kind == "schedule" and data["day"] == shift["day"]
    )

    # Workforce's day moves to half an hour into the shift's first stretch of work.
    first = shift["activities"][0]
    assert first["kind"] == "work"
    workforce_clock(_aware(first["start"]) + timedelta(minutes=30))
    _post(centre, "/v1/refresh", {}, expect=202)

    def measured(actual: str) -> dict[str, Any] | None:
        _post(centre, "/v1/refresh", {}, expect=202)
        rows = _get(centre, "/v1/adherence")["agents"]
        row = next((r for r in rows if r["agent_id"] == agent_id), None)
        return row if row and row["actual"] == actual else None

    working = until(f"{name} measured available", lambda: measured("available"))
    assert working["expected"] == "available" and working["adherence"] == pytest.approx(1.0)
    assert working["out_since"] is None

    agent.post("/v1/state", {"state": "break", "reason": "unscheduled"})
    away = until(f"{name} measured on a break", lambda: measured("break"))
    assert away["expected"] == "available" and away["out_since"] is not None
    assert away["adherence"] == pytest.approx(0.0)

    chen = at_desk("chen")
    # The demo's own roster for this week may have had them rostered, and offline, earlier today
    # (when the real time is inside the tenant's opening hours): the alert looked for is the break's.
    alert = chen.told(
        "the out-of-adherence alert",
        lambda kind, data: (
            kind == "alert"
            and data.get("kind") == "out_of_adherence"
            and data["agent_id"] == agent_id
            and " is break but rostered available" in data["message"]
        ),
    )
    full_name = {"alice": "Alice Nguyen", "bilal": "Bilal Haddad"}[name]
    assert alert["message"].startswith(f"{full_name} is break but rostered available, for ")

    def team_view() -> dict[str, Any] | None:
        view = loopback.get(
            chen.url("/v1/supervisor/workforce"), headers=chen.headers, timeout=10
        ).json()
        row = next(a for a in view["agents"] if a["agent_id"] == agent_id)
        ok = row["adherence"] and row["adherence"]["actual"] == "break" and view["tenants"]
        return view if ok else None

    view = until("the team leader's workforce view", team_view)
    assert view["tenants"][0]["intervals"]

    start = datetime.fromisoformat(shift["day"]).replace(tzinfo=UTC) - timedelta(days=1)

    def kpi() -> float | None:
        figures = loopback.get(
            centre.url("recording", "/v1/kpis"),
            headers=centre.operator,
            params={"from": start.isoformat(), "to": (start + timedelta(days=3)).isoformat()},
        ).json()
        value = figures.get("schedule_adherence")
        team = _get(centre, "/v1/adherence")["teams"]["red"]["adherence"]
        return value if value is not None and abs(value - team) < 0.05 else None

    # Every demo agent is in team red: recording's figure is the team's, as workforce measures it.
    assert 0 <= until("schedule adherence in recording's KPIs", kpi) < 1


def _next_monday() -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
