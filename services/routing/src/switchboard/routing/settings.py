"""Routing's settings (`SWITCHBOARD_ROUTING_*`); queues may override the offer timeouts."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class RoutingSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    routing_offer_timeout_voice_seconds: int = Field(default=15, gt=0)
    """How long a call's offer waits for the agent (unless the queue sets its own)."""
    routing_offer_timeout_written_seconds: int = Field(default=60, gt=0)
    """How long an email's, letter's or fax's offer waits for the agent."""
    routing_offer_timeout_chat_seconds: int = Field(default=20, gt=0)
    """How long a web chat's offer waits for the agent: the customer is watching the window."""
    routing_missed_offers_limit: int = Field(default=3, ge=1)
    """An agent who lets this many offers in a row time out is put on break."""
    routing_retry_same_agent_after_seconds: float = Field(default=60.0, ge=0)
    """An agent who declined or let an offer lapse is passed over for this contact this long; if
    nobody else takes it meanwhile, it may come back to them."""
    routing_stats_interval_seconds: float = Field(default=10.0, gt=0)
    """How often queue statistics are published (`queue.stats`)."""
    routing_named_transfer_seconds: float = Field(default=30.0, gt=0)
    """A contact transferred to a named agent waits this long for them before the queue takes it."""

    @property
    def offer_timeouts(self) -> dict[str, int]:
        written = self.routing_offer_timeout_written_seconds
        return {
            "phone": self.routing_offer_timeout_voice_seconds,
            "email": written,
            "letter": written,
            "fax": written,
            "sms": written,
            "chat": self.routing_offer_timeout_chat_seconds,
            "walk_in": self.routing_offer_timeout_voice_seconds,
        }
