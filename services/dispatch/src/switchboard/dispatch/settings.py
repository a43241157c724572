"""Dispatch's settings (`SWITCHBOARD_DISPATCH_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class DispatchSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    dispatch_clock_file: Path | None = None
    """A controllable clock for tests: seconds to add to the real time (see `common.clock`)."""
    dispatch_tick_seconds: float = Field(default=1.0, gt=0, le=5)
    """The longest the loop sleeps when idle. It sleeps until the next thing is due and is woken
    by this process's own writes, so this bounds only how late it notices a jump of the clock or
    what another process wrote."""
    dispatch_smtp_relay: str | None = None
    """host:port of the SMTP relay for email to field staff (default: the mail sink folder)."""
    dispatch_sender: str = "dispatch@switchboard.invalid"
    """The From address of email to field staff."""

    @property
    def mail_sink(self) -> Path:
        return self.var_dir / "mail-sink"

    @property
    def field_outbox(self) -> Path:
        return self.var_dir / "field-outbox"
