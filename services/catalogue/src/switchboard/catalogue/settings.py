"""The catalogue's settings (`SWITCHBOARD_CATALOGUE_*`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings


class CatalogueSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    catalogue_bureau_url: str | None = None
    """The credit bureau's API (`POST <url>/checks`). Unset: a deterministic stand-in that
    approves up to `catalogue_fake_credit_limit` and declines applicants under 18 (the embedded
    default; never for real customers)."""
    catalogue_bureau_key: SecretStr | None = None
    """The bureau's API key, sent as a bearer token."""
    catalogue_fake_credit_limit: Decimal = Field(default=Decimal(3000), ge=0)
    """The stand-in bureau's credit limit (what an order may owe over its contract)."""
    catalogue_payments_url: str | None = None
    """The payment provider's tokenising API (`POST <url>/tokens`): card details go there and only
    its token comes back. Unset: a stand-in that makes a token from a keyed hash (embedded
    default)."""
    catalogue_payments_key: SecretStr | None = None
    """The payment provider's API key, sent as a bearer token."""
    catalogue_port_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """How long a call to the bureau or the payment provider may take."""
