import pytest

from switchboard.common.errors import InvalidInput
from switchboard.common.signing import signature
from switchboard.intake.domain import (
    Unauthenticated,
    check_signature,
    new_conversation_token,
    resolve_tenant,
    subject_tokens,
    thread_candidates,
)

NOW = 1_800_000_000
BODY = b"From: a@example.net\r\n\r\nhi"


def _check(**overrides: object) -> None:
    arguments: dict[str, object] = {
        "secret": "s3cret",
        "timestamp": str(NOW),
        "presented": signature("s3cret", NOW, BODY),
        "body": BODY,
        "now": NOW + 10,
        "window_seconds": 300,
    }
    arguments.update(overrides)
    check_signature(**arguments)  # type: ignore[arg-type]


def test_a_correct_signature_inside_the_window_passes() -> None:
    _check()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"secret": None}, "unknown channel system"),
        ({"timestamp": None}, "missing"),
        ({"presented": None}, "missing"),
        ({"timestamp": "yesterday"}, "UNIX seconds"),
        ({"now": NOW + 301}, "stale"),
        ({"now": NOW - 301}, "stale"),
        ({"body": BODY + b"!"}, "does not match"),
        ({"secret": "other"}, "does not match"),
        ({"presented": "sha256=00"}, "does not match"),
    ],
)
def test_forged_or_stale_requests_are_refused(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        _check(**overrides)
    assert caught.value.status == 401
    assert reason in caught.value.reason


def test_tenant_from_the_first_known_recipient_of_the_systems_tenant() -> None:
    destinations = {"help@acme.example": "acme", "help@globex.example": "globex"}
    assert resolve_tenant(
        ["cc@else.example", "Help@Acme.example"], destinations, system_tenant="acme"
    ) == ("acme", "help@acme.example")


def test_unknown_destination_and_foreign_tenant_are_refused() -> None:
    destinations = {"help@globex.example": "globex"}
    with pytest.raises(InvalidInput) as unknown:
        resolve_tenant(["nobody@acme.example"], destinations, system_tenant="acme")
    assert unknown.value.status == 422
    with pytest.raises(InvalidInput) as foreign:
        resolve_tenant(["help@globex.example"], destinations, system_tenant="acme")
    assert foreign.value.status == 403


def test_thread_candidates_nearest_first_without_repeats() -> None:
    assert thread_candidates("c", ["a", "b", "c"]) == ["c", "b", "a"]
    assert thread_candidates(None, []) == []


def test_conversation_tokens_in_subjects() -> None:
    token = new_conversation_token()
    assert token.startswith("SB-") and len(token) == 13 and token != new_conversation_token()
    assert subject_tokens(f"Re: your bill [{token.lower()}]") == [token]
    assert subject_tokens("Re: [SB-1234] too short, [SB-XYZXYZXYZX] not hex") == []
