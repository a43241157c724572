"""Dispatch's field for the integration tests: technicians of the test's own around Sydney, the
centre they work in, and a dispatcher who moves dispatch's clock and reads its API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from tests.integration import loopback
from tests.integration.harness import RunningCentre, until

SYDNEY = ZoneInfo("Australia/Sydney")
CBD = {"lat": -33.8688, "lon": 151.2093}
BONDI = {"lat": -33.8915, "lon": 151.2767}
PARRAMATTA = {"lat": -33.8150, "lon": 151.0011}
NEWCASTLE = {"lat": -32.9283, "lon": 151.7817}
ALWAYS = [
    {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "24:00"}
]


def technician(
    tid: str, home: dict[str, float], medium: str, address: str, skills: list[str], teams: list[str]
) -> dict[str, Any]:
    return {
        "id": tid,
        "name": tid.title(),
        "tenant": "acme",
        "skills": skills,
        "shifts": ALWAYS,
        "home": home,
        "medium": medium,
        "address": address,
        "teams": teams,
    }


def centre_config(path: Path) -> Path:
    config = yaml.safe_load((files("switchboard.cli") / "demo-centre.yaml").read_text())
    config["technicians"] = [
        technician("cbd", CBD, "sms", "+61400000001", ["electrical", "gas"], ["sydney"]),
        technician("bondi", BONDI, "email", "bondi@field.example", ["electrical"], ["sydney"]),
        technician(
            "parra", PARRAMATTA, "message_service", "parra", ["electrical", "gas"], ["sydney"]
        ),
        technician("newcastle", NEWCASTLE, "fax", "+61249000000", ["electrical"], ["sydney"]),
        {  # the only one for solar work, and only from seven
            **technician("dawn", CBD, "sms", "+61400000005", ["solar"], ["solar-crew"]),
            "shifts": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "open": "07:00",
                    "close": "15:00",
                }
            ],
        },
    ]
    tenant = next(t for t in config["tenants"] if t["id"] == "acme")
    tenant["dispatch"] = {
        "road_factor": 1.3,
        "speed_kmh": 40,
        "confirm_within_minutes": 10,
        "preempt_within_km": 30,
        "chase_after_minutes": 20,
        "max_chases": 1,
        "approval": {
            "kinds": ["safety"],
            "broadcast_over": 10,
            "approvers": ["ops-manager", "dispatcher"],
        },
    }
    target = path / "centre.yaml"
    target.write_text(yaml.safe_dump(config))
    return target


class Dispatcher:
    def __init__(self, centre: RunningCentre, clock_file: Path) -> None:
        self.centre, self.clock_file = centre, clock_file

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=float(self.clock_file.read_text()))

    def morning(self) -> None:
        """Move the clock on to the next 08:00 in Sydney, so the day's plan has a day ahead of it
        whenever the test runs."""
        now = self.now().astimezone(SYDNEY)
        eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
        if eight <= now:
            eight += timedelta(days=1)
        self.advance((eight - now).total_seconds() / 60)

    def at_sydney(self, hour: int, minute: int) -> None:
        """Move the clock on to the next `hour:minute` in Sydney."""
        now = self.now().astimezone(SYDNEY)
        then = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if then <= now:
            then += timedelta(days=1)
        self.advance((then - now).total_seconds() / 60)

    def advance(self, minutes: float) -> None:
        offset = float(self.clock_file.read_text()) + minutes * 60
        self.clock_file.write_text(str(offset))

    def post(
        self, path: str, body: dict[str, Any], expect: int = 200, as_: dict[str, str] | None = None
    ) -> Any:
        headers = as_ or self.centre.operator
        answer = loopback.post(
            self.centre.url("dispatch", path), json=body, headers=headers, timeout=30
        )
        assert answer.status_code == expect, answer.text
        return answer.json()

    def get(self, path: str) -> Any:
        answer = loopback.get(
            self.centre.url("dispatch", path), headers=self.centre.operator, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.get(f"/v1/jobs/{job_id}"))

    def wait(self, job_id: str, what: str, test: Any) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            answer = loopback.get(
                self.centre.url("dispatch", f"/v1/jobs/{job_id}"),
                headers=self.centre.operator,
                timeout=30,
            )
            return answer.json() if answer.status_code == 200 and test(answer.json()) else None

        return until(what, probe)

    def details(
        self,
        site: dict[str, float],
        *,
        priority: str = "normal",
        hours: float = 8,
        skills: tuple[str, ...] = ("electrical",),
    ) -> dict[str, Any]:
        start = self.now()
        return {
            "customer": {"name": "Pat Citizen", "phone": "+61412345678"},
            "site": {"address": "1 Test Street", **site},
            "work_type": "meter fault",
            "skills": list(skills),
            "estimated_minutes": 60,
            "window": {
                "start": start.isoformat(),
                "end": (start + timedelta(hours=hours)).isoformat(),
            },
            "priority": priority,
            "special_instructions": "Dog in the yard",
            "payment": {"method": "card", "token": "tok_visa_4f9a2c"},
        }
