"""Every operator endpoint of every service, read from the services' own OpenAPI documents (so a
new endpoint joins the access tests by itself), and the demo people who call them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.integration import loopback
from tests.integration.harness import RunningCentre

SERVICES = ("routing", "escalation", "recording", "dispatch", "workforce", "catalogue")
"""The services with an operator API."""
BODIES = {"/v1/plan": {"time_limit_seconds": 0.1}}
"""What a route is sent where its defaults cost more than the test needs: the field planner searches
for better routes for 5 s by default, at a core's full use; whom it answers is all that is tested."""


def get_json(centre: RunningCentre, service: str, path: str, headers: dict[str, str]) -> Any:
    answer = loopback.get(centre.url(service, path), headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- the routes, from each service's OpenAPI ---------------------------------------------------
@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    path_params: tuple[str, ...]
    query: dict[str, str]
    """Required query parameters with a value of the right type."""

    def url(self, centre: RunningCentre, ids: dict[str, str], fallback: str = "none-such") -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", ids.get(name, fallback))
        return centre.url(self.service, path)

    def call(
        self, centre: RunningCentre, headers: dict[str, str], ids: dict[str, str]
    ) -> httpx.Response:
        body = None if self.method in ("GET", "DELETE") else BODIES.get(self.path, {})
        return loopback.request(
            self.method,
            self.url(centre, ids),
            params=self.query,
            json=body,
            headers=headers,
            timeout=30,
        )


def routes(centre: RunningCentre) -> list[Route]:
    found = []
    for service in SERVICES:
        document = get_json(centre, service, "/openapi.json", {})
        for path, operations in document["paths"].items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in operations.items():
                params = operation.get("parameters", [])
                found.append(
                    Route(
                        service,
                        method.upper(),
                        path,
                        tuple(p["name"] for p in params if p["in"] == "path"),
                        {
                            p["name"]: _value(p["name"], p["schema"])
                            for p in params
                            if p["in"] == "query" and p.get("required")
                        },
                    )
                )
    return found


def _value(name: str, schema: dict[str, Any]) -> str:
    """A value of the parameter's type; a period's start a week before its end."""
    kind = schema.get("format") or schema.get("type")
    back = timedelta(days=7 if name in ("from", "start") else 0)
    if kind == "date-time":
        return (datetime.now(UTC).replace(microsecond=0) - back).isoformat()
    if kind == "date":
        return (date.today() - back).isoformat()
    return "1" if kind in ("integer", "number") else "x"


# -- the tests ---------------------------------------------------------------------------------


def demo_roles(centre: RunningCentre) -> dict[str, str]:
    return {name: person["roles"][0] for name, person in centre.operators.items()}
