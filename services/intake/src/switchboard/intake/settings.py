"""Intake's settings (`SWITCHBOARD_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings

MB = 1024 * 1024


class IntakeSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    intake_max_email_bytes: int = 25 * MB
    intake_max_document_bytes: int = 25 * MB
    intake_max_cti_bytes: int = 64 * 1024
    intake_max_pages: int = 50
    intake_max_text_chars: int = 200_000
    intake_ocr_timeout_seconds: float = 60.0
    intake_ocr_min_confidence: float = 70.0
    """Mean OCR confidence under which a letter or fax is flagged for manual review."""
    intake_signature_window_seconds: int = 300
    intake_publish_timeout_seconds: float = 10.0
    """How long a request waits for the broker to acknowledge its event before answering 503."""
    intake_smtp: bool = True
