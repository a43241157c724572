"""Intake's settings (`SWITCHBOARD_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from switchboard.common.settings import Settings
from switchboard.intake.adapters.limits import EmailLimits

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
    """Pages of a letter or fax read by OCR; more are refused (counted before any is decoded)."""
    intake_max_page_pixels: int = 40_000_000
    """Pixels of one page image (an A4 page at 600 dpi is 35 million); larger is refused."""
    intake_max_header_bytes: int = 256 * 1024
    """An email's whole header block."""
    intake_max_header_field_bytes: int = 32 * 1024
    """One header field of an email, unfolded."""
    intake_max_recipients: int = 500
    """Addresses in an email's To, Cc and delivery headers."""
    intake_max_mime_multiparts: int = 50
    """multipart containers in one email (which bounds how deep its parts nest)."""
    intake_max_mime_parts: int = 500
    """MIME parts in one email."""
    intake_max_form_parts: int = 20
    """Parts of a letter's or fax's multipart/form-data request."""
    intake_max_json_depth: int = 8
    """How deep a CTI event's JSON may nest."""
    intake_parse_workers: int = 2
    """Threads that read emails, forms and documents off the event loop."""
    intake_parse_timeout_seconds: float = 30.0
    """How long reading one email or document may take before it is refused (422)."""
    intake_call_event_max_age_hours: float = 24.0
    """How far in the past a call event's `at` may be; older is refused as implausible."""
    intake_call_event_max_ahead_seconds: float = 300.0
    """How far in the future a call event's `at` may be (clock skew); later is refused."""
    intake_max_text_chars: int = 200_000
    """Text kept from one contact; longer text is cut and flagged."""
    intake_ocr_timeout_seconds: float = 60.0
    """How long OCR may take on one document."""
    intake_ocr_min_confidence: float = 70.0
    """Mean OCR confidence under which a letter or fax is flagged for manual review."""
    intake_signature_window_seconds: int = 300
    """How old a signed request's timestamp may be (replays outside it are refused)."""
    intake_max_unpublished: int = 20_000
    """Events waiting for the broker (it is away) over which new contacts are answered 503 with
    Retry-After, so the outbox cannot grow without bound."""
    intake_smtp: bool = True
    """Listen for SMTP on `smtp_port`."""
    intake_chat_max_frame_bytes: int = 16 * 1024
    """The largest frame a chat window may send (the socket is closed above it)."""
    intake_chat_max_message_chars: int = 2000
    """The longest chat message a customer may send."""
    intake_chat_burst: int = 5
    """Chat messages a customer may send at once ..."""
    intake_chat_messages_per_second: float = 1.0
    """... and then this many a second."""
    intake_sms_max_chars: int = 1600
    """The longest inbound SMS accepted (ten concatenated segments)."""
    intake_sms_thread_days: int = 7
    """An SMS joins the sender's conversation if they were in touch within this many days."""
    intake_egress_attempts: int = 3
    """Tries to hand a call command or an SMS to its channel system before it counts as failed."""
    intake_egress_pause_seconds: float = 0.5
    """The pause after the first failed try (doubling after each)."""
    intake_egress_timeout_seconds: float = 5.0
    """How long one try may take."""

    @property
    def email_limits(self) -> EmailLimits:
        return EmailLimits(
            header_bytes=self.intake_max_header_bytes,
            header_field_bytes=self.intake_max_header_field_bytes,
            recipients=self.intake_max_recipients,
            multiparts=self.intake_max_mime_multiparts,
            parts=self.intake_max_mime_parts,
        )
