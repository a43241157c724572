"""Workforce's settings (`SWITCHBOARD_WORKFORCE_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class WorkforceSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    workforce_clock_file: Path | None = None
    """A controllable clock for tests: seconds to add to the real time (see `common.clock`)."""
    workforce_refresh_seconds: float = Field(default=30.0, gt=0, le=300)
    """How often today's picture and adherence are re-measured when no agent's state changes (a
    state change re-measures at once)."""
    workforce_solve_seconds: float = Field(default=20.0, gt=0, le=600)
    """The longest the roster solver searches for fewer rostered hours once the requirement is
    covered as well as it can be."""
