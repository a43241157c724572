"""Bad input to intake gets a 4xx with a reason, never a 5xx and never a half-published contact."""

from __future__ import annotations

import time

import pytest

from tests.integration.harness import MAX_EMAIL_BYTES, RunningCentre


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (b"", 400, "empty"),
        (b"\x00\x01\x02\xff garbage \x00", 422, "binary"),
        (b"this is not an email at all", 422, "header"),
        (b"From: someone@example.net\r\nSubject: x\r\n\r\nno recipient", 422, "recipient"),
        (b"From: a@example.net\r\nTo: stranger@nowhere.example\r\n\r\nx", 422, "receiving address"),
    ],
)
def test_not_a_contact(centre: RunningCentre, raw: bytes, status: int, reason: str) -> None:
    response = centre.post_email(raw)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_over_the_size_limit(centre: RunningCentre) -> None:
    raw = centre.email(body="x" * (MAX_EMAIL_BYTES + 1))
    response = centre.post_email(raw)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_wrong_content_type(centre: RunningCentre) -> None:
    raw = centre.email()
    headers = {**centre.signed(raw), "Content-Type": "application/json"}
    response = centre.post_email(raw, headers)
    assert response.status_code == 415
    assert "message/rfc822" in response.json()["detail"]


def test_unsigned_forged_stale_and_replayed_requests(centre: RunningCentre) -> None:
    raw = centre.email()
    unsigned = centre.post_email(raw, {"Content-Type": "message/rfc822"})
    assert unsigned.status_code == 401 and "X-Switchboard-System" in unsigned.json()["detail"]

    forged = {**centre.signed(raw), "X-Switchboard-Signature": "sha256=" + "0" * 64}
    assert centre.post_email(raw, forged).json()["detail"] == "signature does not match the body"

    stale = centre.signed(raw, timestamp=int(time.time()) - 3600)
    response = centre.post_email(raw, stale)
    assert response.status_code == 401 and "stale" in response.json()["detail"]

    unknown = {**centre.signed(raw), "X-Switchboard-System": "no-such-system"}
    assert centre.post_email(raw, unknown).json()["detail"] == "unknown channel system"

    headers = centre.signed(raw)
    assert centre.post_email(raw, headers).status_code == 202
    replay = centre.post_email(raw, headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["detail"]
