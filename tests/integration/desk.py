"""Agents at the desktop, through its API and its event stream, as the integration tests drive
them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.integration import loopback
from tests.integration.harness import RunningCentre, until


class AgentAtDesk:
    """An agent at the desktop, through its API."""

    def __init__(self, centre: RunningCentre, name: str) -> None:
        """`name` is the demo agent's (alice, bilal ...): the agent of that name in `centre`'s
        tenant."""
        self.centre, self.name = centre, centre.agent_id(name)
        self.headers = {"Authorization": f"Bearer {centre.agent_token(self.name)}"}
        self.post("/v1/state", {"state": "available"})

    def url(self, path: str) -> str:
        return self.centre.url("desktop", path)

    def post(self, path: str, body: dict[str, Any] | None = None, *, expect: int = 202) -> Any:
        answer = loopback.post(self.url(path), json=body, headers=self.headers, timeout=10)
        assert answer.status_code == expect, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    def me(self) -> dict[str, Any]:
        return dict(loopback.get(self.url("/v1/me"), headers=self.headers, timeout=10).json())

    def take(self, contact_id: str) -> None:
        """Wait for the contact's offer, accept it, and wait until it is assigned. An agent has
        one offer open at a time, so another contact's offer on the way is declined."""

        def offered() -> dict[str, Any] | None:
            for offer in self.me()["offers"]:
                if offer["contact_id"] == contact_id:
                    return dict(offer)
                loopback.post(
                    self.url(f"/v1/offers/{offer['offer_id']}/decline"),
                    json={"reason": "taking another"},
                    headers=self.headers,
                )
            return None

        offer = until(f"{self.name}'s offer of {contact_id}", offered)
        self.post(f"/v1/offers/{offer['offer_id']}/accept")
        until(
            f"{contact_id} assigned to {self.name}",
            lambda: any(c["contact_id"] == contact_id for c in self.me()["contacts"]),
        )

    def told(self, what: str, test: Callable[[str, dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event in the agent's stream (from the start of their inbox) that passes
        `test(event_type, data)`."""
        events = read_stream(
            self.centre,
            {**self.headers, "Last-Event-ID": "0"},
            lambda seen: any(test(kind, data) for _, kind, data in seen),
        )
        found = [data for _, kind, data in events if test(kind, data)]
        assert found, f"{self.name} was not told {what}"
        return found[0]

    def wrap(self, contact_id: str, outcome: str) -> None:
        body = {"disposition": f"{outcome}-done", "outcome": outcome, "notes": "as discussed"}
        self.post(f"/v1/contacts/{contact_id}/wrapup", body)


def read_stream(
    centre: RunningCentre,
    headers: dict[str, str],
    enough: Callable[[list[tuple[int, str, dict[str, Any]]]], bool],
    timeout: float = 45,
) -> list[tuple[int, str, dict[str, Any]]]:
    """A desktop event stream read until `enough(events)` (or `timeout`), then dropped."""
    events: list[tuple[int, str, dict[str, Any]]] = []
    frame: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with loopback.stream(
        "GET", centre.url("desktop", "/v1/events"), headers=headers, timeout=30
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line:
                field, _, value = line.partition(": ")
                frame[field] = value
                continue
            if "data" in frame:
                events.append((int(frame["id"]), frame["event"], json.loads(frame["data"])))
            frame = {}
            if enough(events) or time.monotonic() > deadline:
                break
    return events


def offered_on(agent: AgentAtDesk, channel: str) -> dict[str, Any]:
    return until(
        f"{agent.name}'s {channel} offer",
        lambda: next((o for o in agent.me()["offers"] if o["channel"] == channel), None),
    )


def timeline_of(centre: RunningCentre, contact_id: str, wanted: str, count: int = 1) -> list[Any]:
    def found() -> list[Any] | None:
        answer = centre.contact(contact_id)
        if answer.status_code != 200:
            return None
        entries = [e for e in answer.json()["timeline"] if e["event_type"] == wanted]
        return entries if len(entries) >= count else None

    return until(f"{count} {wanted} for {contact_id}", found)


def holder_of(agents: dict[str, AgentAtDesk], contact_id: str) -> AgentAtDesk:
    """Whoever was offered the contact (routing chooses among the available)."""

    def offered() -> AgentAtDesk | None:
        for agent in agents.values():
            if any(o["contact_id"] == contact_id for o in agent.me()["offers"]):
                return agent
        return None

    return until(f"an offer of {contact_id}", offered)
