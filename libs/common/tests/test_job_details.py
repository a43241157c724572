"""What a field job request must carry: a window that ends after it starts, with its UTC offset, and
payment as a token, never a card number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from switchboard.common.events.desktop import JobDetails, Payment, TimeWindow

START = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _details(**changes: object) -> dict[str, object]:
    return {
        "site": {"address": "1 George St, Sydney", "lat": -33.86, "lon": 151.21},
        "work_type": "meter fault",
        "estimated_minutes": 60,
        "window": {"start": START.isoformat(), "end": (START + timedelta(hours=2)).isoformat()},
        **changes,
    }


def test_a_job_with_a_payment_token() -> None:
    job = JobDetails.model_validate(_details(payment={"method": "card", "token": "tok_1N3xAb"}))
    assert job.payment == Payment(method="card", token="tok_1N3xAb")
    assert job.priority == "normal" and job.customer is None


@pytest.mark.parametrize(
    "token", ["4111111111111111", "tok_4111111111111111", "5500-0000-0000-0004"]
)
def test_a_card_number_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match=r"card number|pattern"):
        Payment(method="card", token=token)


def test_a_long_number_that_is_not_a_card_is_a_token() -> None:
    assert Payment(method="account", token="acct_4111111111111112").token == "acct_4111111111111112"


def test_the_window_must_end_after_it_starts_and_carry_its_offset() -> None:
    with pytest.raises(ValidationError, match="must end after it starts"):
        TimeWindow(start=START, end=START)
    with pytest.raises(ValidationError, match="UTC offset"):
        TimeWindow(start=datetime(2026, 11, 24, 9), end=datetime(2026, 11, 24, 11))
