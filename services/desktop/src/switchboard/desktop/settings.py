"""The desktop gateway's settings (`SWITCHBOARD_DESKTOP_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class DesktopSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    desktop_session_hours: float = Field(default=10.0, gt=0, le=24)
    """How long a sign-in lasts: a shift, then the agent signs in again."""
    desktop_token_secret: SecretStr | None = None
    """The key session tokens are signed with. Unset, the desktop keeps a random one in its table,
    shared by every replica through the database."""
    desktop_smtp_relay: str | None = None
    """`host:port` of the SMTP relay agents' email replies go through. Unset, replies are written
    as `.eml` files to the mail sink folder instead (the embedded default)."""
    desktop_mail_sink: Path | None = None
    """Where replies go without a relay; default `<var_dir>/mail-sink`."""
    desktop_heartbeat_seconds: float = Field(default=15.0, gt=0)
    """How often an idle event stream sends a keep-alive comment (proxies drop silent ones)."""
    desktop_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the desktop looks for events another replica's consumer stored for the agents
    with a stream open here (one query for all of them)."""

    desktop_recording_url: str | None = None
    """Where recording's API is, for the quality pages (scorecards, evaluations, coaching), which
    the desktop asks for the person signed in. Unset: `http://127.0.0.1:<recording_port>`."""

    desktop_catalogue_url: str | None = None
    """Where the catalogue's API is, for the product and knowledge pages, asked for the person
    signed in. Unset: `http://127.0.0.1:<catalogue_port>`."""

    @property
    def catalogue_url(self) -> str:
        return self.desktop_catalogue_url or f"http://127.0.0.1:{self.catalogue_port}"

    @property
    def recording_url(self) -> str:
        return self.desktop_recording_url or f"http://127.0.0.1:{self.recording_port}"

    @property
    def mail_sink(self) -> Path:
        return self.desktop_mail_sink or self.var_dir / "mail-sink"
