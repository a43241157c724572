"""A seeded day of field work around Sydney: the same technicians and jobs every run, so `make bench`
figures compare across commits and tests can use a realistic day."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from switchboard.dispatch import domain, planning

JOBS, TECHNICIANS = 200, 20
SKILLS = ("electrical", "gas", "water")
DAY_SECONDS = 10 * 3600


def sydney_day(
    seed: int = 20261124, jobs: int = JOBS, technicians: int = TECHNICIANS
) -> planning.Problem:
    """Technicians with one to three skills spread over 20 x 20 km of Sydney; jobs with one skill,
    a two- to four-hour window somewhere in a ten-hour day, 20 to 60 minutes of work."""
    rng = random.Random(seed)

    def somewhere() -> domain.Point:
        return domain.Point(rng.uniform(-33.95, -33.75), rng.uniform(151.00, 151.25))

    techs = [
        planning.PlanTech(
            f"t{n:02}",
            frozenset(rng.sample(SKILLS, rng.choice((1, 2)))) | {"electrical"},
            somewhere(),
            0,
            DAY_SECONDS,
        )
        for n in range(technicians)
    ]
    work = []
    for n in range(jobs):
        opens = rng.randrange(0, DAY_SECONDS - 4 * 3600, 900)
        work.append(
            planning.PlanJob(
                f"j{n:03}",
                somewhere(),
                frozenset({rng.choice(SKILLS)}),
                rng.choice((20, 30, 45, 60)) * 60,
                (opens, opens + rng.choice((2, 3, 4)) * 3600),
                rng.choice(("urgent", "normal", "normal", "low")),
            )
        )
    origin = datetime(2026, 11, 24, 7, tzinfo=UTC)
    return planning.Problem(origin, techs, work, domain.TravelModel(road_factor=1.3, speed_kmh=40))
