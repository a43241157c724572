from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard.common.compliance.dnc import (
    Consent,
    Facts,
    Policy,
    Request,
    Wash,
    decide,
    mask_number,
    outside_hours,
    zones_of,
)
from switchboard.common.compliance.holidays import easter_sunday, national_public_holidays

SYDNEY = ZoneInfo("Australia/Sydney")
TUESDAY_11AM = datetime(2026, 11, 24, 11, 0, tzinfo=SYDNEY)
LANDLINE = "+61255501234"  # Sydney
FRESH = Wash(registered=False, washed_on=date(2026, 11, 10))


def _request(**changes: object) -> Request:
    fields: dict[str, object] = {
        "tenant_id": "acme",
        "number": LANDLINE,
        "channel": "call",
        "purpose": "marketing",
        "at": TUESDAY_11AM,
    }
    fields.update(changes)
    return Request(**fields)  # type: ignore[arg-type]


def test_a_freshly_washed_unregistered_number_is_cleared() -> None:
    decision = decide(_request(), Facts(FRESH), Policy())
    assert decision.cleared and "not on the Do Not Call Register" in decision.reason


def test_a_registered_number_is_blocked() -> None:
    decision = decide(_request(), Facts(Wash(True, date(2026, 11, 10))), Policy())
    assert not decision.cleared and decision.reason == "number is on the Do Not Call Register"


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (Facts(None), "never washed"),
        (Facts(Wash(False, date(2026, 10, 1))), "older than 30 days"),
    ],
)
def test_fail_closed_without_a_current_wash(facts: Facts, reason: str) -> None:
    decision = decide(_request(), facts, Policy())
    assert not decision.cleared and reason in decision.reason


def test_the_tenant_s_validity_window_is_used() -> None:
    facts = Facts(Wash(False, date(2026, 10, 1)))
    assert decide(_request(), facts, Policy(wash_validity_days=60)).cleared


def test_consent_in_force_overrides_the_register_and_expires() -> None:
    registered = Wash(True, date(2026, 11, 10))
    consent = Consent("web form 42", date(2026, 1, 5), date(2026, 12, 31))
    assert decide(_request(), Facts(registered, [consent]), Policy()).cleared
    expired = Consent("web form 42", date(2025, 1, 5), date(2026, 6, 30))
    decision = decide(_request(), Facts(registered, [expired]), Policy())
    assert not decision.cleared and "on the Do Not Call Register" in decision.reason
    future = Consent("shop", date(2026, 12, 1), None)
    assert not decide(_request(), Facts(registered, [future]), Policy()).cleared


@pytest.mark.parametrize(
    "exemption", ["charity", "government", "political_party", "educational", "religious"]
)
def test_exempt_tenants_may_call_registered_numbers(exemption: str) -> None:
    decision = decide(
        _request(), Facts(Wash(True, date(2026, 11, 10))), Policy(exemption=exemption)
    )
    assert decision.cleared and exemption in decision.reason


def test_an_exemption_does_not_lift_calling_hours() -> None:
    sunday = datetime(2026, 11, 22, 11, 0, tzinfo=SYDNEY)
    decision = decide(_request(at=sunday), Facts(FRESH), Policy(exemption="charity"))
    assert not decision.cleared and "Sunday" in decision.reason


@pytest.mark.parametrize(
    "purpose", ["appointment", "fault_verification", "payment", "product_recall", "solicited"]
)
def test_service_purposes_are_not_marketing(purpose: str) -> None:
    sunday_night = datetime(2026, 11, 22, 22, 0, tzinfo=SYDNEY)
    decision = decide(_request(purpose=purpose, at=sunday_night), Facts(None), Policy())
    assert decision.cleared and purpose in decision.reason


def test_an_unknown_purpose_is_not_cleared() -> None:
    assert not decide(_request(purpose="survey?"), Facts(FRESH), Policy()).cleared


def test_outsourced_telemarketing_needs_the_contract_clause() -> None:
    policy = Policy(outsources_telemarketing=True)
    decision = decide(_request(), Facts(FRESH), policy)
    assert not decision.cleared and "DNC clause" in decision.reason
    assert decide(
        _request(),
        Facts(FRESH),
        Policy(outsources_telemarketing=True, contract_dnc_clause="cl. 14.2"),
    ).cleared


def test_marketing_sms_needs_consent_whatever_the_register() -> None:
    assert not decide(_request(channel="sms"), Facts(FRESH), Policy()).cleared
    consent = Consent("app opt-in", date(2026, 1, 1), None)
    assert decide(
        _request(channel="sms"), Facts(Wash(True, date(2026, 11, 10)), [consent]), Policy()
    ).cleared


@pytest.mark.parametrize(
    ("local", "zone", "number", "allowed"),
    [
        ("2026-11-24 08:59", "Australia/Sydney", "+61255501234", False),
        ("2026-11-24 09:00", "Australia/Sydney", "+61255501234", True),
        ("2026-11-24 19:59", "Australia/Sydney", "+61255501234", True),
        ("2026-11-24 20:00", "Australia/Sydney", "+61255501234", False),
        ("2026-11-28 16:59", "Australia/Sydney", "+61255501234", True),  # Saturday
        ("2026-11-28 17:00", "Australia/Sydney", "+61255501234", False),
        ("2026-11-29 12:00", "Australia/Sydney", "+61255501234", False),  # Sunday
        # 19:30 in Sydney (daylight saving) is 16:30 in Perth: fine there; 08:30 in Perth is not.
        ("2026-11-24 19:30", "Australia/Sydney", "+61893001234", True),
        ("2026-11-24 12:00", "Australia/Sydney", "+61893001234", True),
        ("2026-11-24 11:59", "Australia/Sydney", "+61893001234", False),
        # Queensland keeps no daylight saving: 09:30 Sydney (summer) is 08:30 Brisbane.
        ("2026-11-24 09:30", "Australia/Sydney", "+61755501234", False),
        # A mobile could be anywhere: must be inside the hours in every zone it might be in.
        ("2026-11-24 12:00", "Australia/Sydney", "+61412345678", False),
        ("2026-11-24 15:00", "Australia/Sydney", "+61412345678", True),
    ],
)
def test_calling_hours_in_the_called_person_s_zone(
    local: str, zone: str, number: str, allowed: bool
) -> None:
    at = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    assert (outside_hours(_request(at=at, number=number)) is None) is allowed


def test_a_known_time_zone_is_preferred_over_the_number() -> None:
    at = datetime(2026, 11, 24, 12, 0, tzinfo=SYDNEY)
    assert (
        outside_hours(_request(at=at, number="+61412345678", time_zone="Australia/Sydney")) is None
    )


def test_daylight_saving_change_is_respected() -> None:
    # 5 April 2026, daylight saving ends in Sydney at 03:00; Monday 6 April is Easter Monday.
    # Tuesday 7 April 08:30 in Adelaide (UTC+9:30 after the change) is 09:00 in Sydney: not in Adelaide.
    at = datetime(2026, 4, 7, 9, 0, tzinfo=SYDNEY)
    assert outside_hours(_request(at=at, number="+61881234567")) is not None
    assert outside_hours(_request(at=at, number=LANDLINE)) is None


def test_fax_hours_are_shorter() -> None:
    at = datetime(2026, 11, 24, 17, 30, tzinfo=SYDNEY)
    assert outside_hours(_request(at=at, channel="fax")) is not None
    assert outside_hours(_request(at=at, channel="call")) is None


def test_national_public_holidays() -> None:
    assert easter_sunday(2026) == date(2026, 4, 5) and easter_sunday(2027) == date(2027, 3, 28)
    days = national_public_holidays(2026)
    assert {
        date(2026, 1, 1),
        date(2026, 1, 26),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 4, 25),
    } <= days
    assert {
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 28),
    } <= days  # Boxing Day is a Saturday
    assert date(2027, 12, 27) in national_public_holidays(2027)  # Christmas on a Saturday
    christmas = datetime(2026, 12, 25, 11, 0, tzinfo=SYDNEY)
    decision = decide(_request(at=christmas), Facts(FRESH), Policy())
    assert not decision.cleared and "public holiday" in decision.reason


def test_foreign_numbers_are_not_on_the_register() -> None:
    at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Pacific/Auckland"))
    decision = decide(_request(number="+6421555123", at=at), Facts(None), Policy())
    assert decision.cleared and "not an Australian number" in decision.reason


def test_zones_and_masking() -> None:
    assert zones_of("+61755501234") == ["Australia/Brisbane"]
    assert zones_of("+61889001234") == ["Australia/Darwin"]
    assert "Australia/Perth" in zones_of("+61412345678")
    assert mask_number("+61412345678") == "*********678"
