"""Recording's settings (`SWITCHBOARD_RECORDING_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class RecordingSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    recording_retention_interval_seconds: float = Field(default=3600.0, gt=0)
    """How often the retention job de-identifies contacts past their tenant's retention."""
