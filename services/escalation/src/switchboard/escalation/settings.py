"""Escalation's settings (`SWITCHBOARD_ESCALATION_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class EscalationSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    escalation_clock_file: Path | None = None
    """A controllable clock for tests: seconds to add to the real time (see `common.clock`)."""
    escalation_tick_seconds: float = Field(default=1.0, gt=0, le=5)
    """The longest the loop sleeps when idle. It sleeps until the next thing is due and is woken
    by this process's own writes, so this bounds only how late it notices a jump of the clock or
    what another process wrote."""
    escalation_batch: int = Field(default=500, ge=1)
    """Timers fired in one transaction."""
