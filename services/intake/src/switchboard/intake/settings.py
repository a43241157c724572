"""Intake's settings (`SWITCHBOARD_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings

MB = 1024 * 1024


class IntakeSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    intake_max_email_bytes: int = 25 * MB
    """The largest email accepted (413 above)."""
    intake_max_document_bytes: int = 25 * MB
    """The largest scanned letter or fax accepted (413 above)."""
    intake_max_cti_bytes: int = 64 * 1024
    """The largest CTI event accepted."""
    intake_max_pages: int = 50
    """Pages of a letter or fax read by OCR; more are refused."""
    intake_max_text_chars: int = 200_000
    """Text kept from one contact; longer text is cut and flagged."""
    intake_ocr_timeout_seconds: float = 60.0
    """How long OCR may take on one document."""
    intake_ocr_min_confidence: float = 70.0
    """Mean OCR confidence under which a letter or fax is flagged for manual review."""
    intake_signature_window_seconds: int = 300
    """How old a signed request's timestamp may be (replays outside it are refused)."""
    intake_publish_timeout_seconds: float = 10.0
    """How long a request waits for the broker to acknowledge its event before answering 503."""
    intake_smtp: bool = True
    """Listen for SMTP on `smtp_port`."""
