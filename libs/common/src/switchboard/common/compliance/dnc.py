"""The Do Not Call gate: may this outbound contact be made? Pure rules, no I/O.

For marketing (Do Not Call Register Act 2006, Telemarketing and Research Industry Standard 2017, Fax
Marketing Industry Standard 2021, Spam Act 2003), in this order:

1. A tenant that outsources telemarketing to the centre must have its contract's DNC clause recorded.
2. A marketing SMS needs the recipient's consent (Spam Act), whatever the register says.
3. Calls and faxes only in permitted hours in the called person's time zone (calls: weekdays
   9:00-20:00, Saturday 9:00-17:00; faxes: weekdays 9:00-17:00, Saturday 9:00-15:00; never on a
   Sunday or a national public holiday). Where the number does not tell the zone (a mobile), the
   contact must be inside the hours in every zone it could be in.
4. Recorded express consent in force, or the tenant's exemption (charity, government body,
   registered political party, educational or religious organisation), clears the register.
5. Otherwise the number must have been washed within the tenant's validity window (30 days) and
   found not registered.

A contact whose purpose is not marketing (appointment reminders and rescheduling, fault
verification, payment matters, product recalls, a call the customer asked for) is cleared.

Fail closed: a number never washed, a stale wash, or a register that cannot be read blocks the
contact with that reason; nothing is allowed by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

from switchboard.common.compliance.holidays import is_national_public_holiday

OutboundChannel = Literal["call", "fax", "sms"]
SERVICE_PURPOSES = frozenset(
    {"appointment", "fault_verification", "payment", "product_recall", "solicited", "service"}
)
EXEMPTIONS = frozenset({"charity", "government", "political_party", "educational", "religious"})
# Allowed local hours per channel: weekday → (start, end); absent days are closed.
HOURS: dict[str, dict[int, tuple[time, time]]] = {
    "call": {**{d: (time(9), time(20)) for d in range(5)}, 5: (time(9), time(17))},
    "fax": {**{d: (time(9), time(17)) for d in range(5)}, 5: (time(9), time(15))},
}


@dataclass(frozen=True)
class Request:
    tenant_id: str
    number: str
    channel: OutboundChannel
    purpose: str
    at: datetime
    time_zone: str | None = None
    """The called person's zone where it is known (their address); otherwise from the number."""


@dataclass(frozen=True)
class Wash:
    registered: bool
    washed_on: date


@dataclass(frozen=True)
class Consent:
    source: str
    given_on: date
    expires_on: date | None


@dataclass(frozen=True)
class Policy:
    exemption: str | None = None
    outsources_telemarketing: bool = False
    contract_dnc_clause: str | None = None
    wash_validity_days: int = 30


@dataclass(frozen=True)
class Facts:
    """What the register knows of one number for one tenant."""

    wash: Wash | None
    consents: list[Consent] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    cleared: bool
    reason: str

    @property
    def outcome(self) -> str:
        return "cleared" if self.cleared else "blocked"


def blocked(reason: str) -> Decision:
    return Decision(False, reason)


def cleared(reason: str) -> Decision:
    return Decision(True, reason)


def decide(request: Request, facts: Facts, policy: Policy) -> Decision:
    if request.purpose in SERVICE_PURPOSES:
        return cleared(f"not marketing ({request.purpose})")
    if request.purpose != "marketing":
        return blocked(f"unknown purpose {request.purpose!r}: treated as marketing and not cleared")
    if policy.outsources_telemarketing and not policy.contract_dnc_clause:
        return blocked("outsourced telemarketing without a DNC clause recorded in the contract")
    today = request.at.date()
    consent = _consent_in_force(facts.consents, today)
    if request.channel == "sms":
        if consent is None:
            return blocked(
                "a marketing SMS needs the recipient's consent (Spam Act); none in force"
            )
        return cleared(f"consent to marketing messages ({consent.source})")
    outside = outside_hours(request)
    if outside is not None:
        return blocked(outside)
    if not is_australian(request.number):
        return cleared("not an Australian number: the Do Not Call Register does not apply")
    if consent is not None:
        until = consent.expires_on.isoformat() if consent.expires_on else "withdrawn"
        return cleared(f"express consent ({consent.source}, until {until})")
    if policy.exemption in EXEMPTIONS:
        return cleared(f"the tenant is exempt ({policy.exemption})")
    if facts.wash is None:
        return blocked("number never washed against the Do Not Call Register")
    age = (today - facts.wash.washed_on).days
    if age > policy.wash_validity_days:
        return blocked(
            f"wash of {facts.wash.washed_on.isoformat()} is older than {policy.wash_validity_days} days"
        )
    if facts.wash.registered:
        return blocked("number is on the Do Not Call Register")
    return cleared(f"not on the Do Not Call Register (washed {facts.wash.washed_on.isoformat()})")


def _consent_in_force(consents: list[Consent], today: date) -> Consent | None:
    live = [
        c
        for c in consents
        if c.given_on <= today and (c.expires_on is None or today <= c.expires_on)
    ]
    return max(live, key=lambda c: c.given_on) if live else None


def is_australian(number: str) -> bool:
    return number.startswith("+61")


def zones_of(number: str) -> list[str]:
    """The time zones the called person could be in, by the number."""
    if number.startswith("+61") and len(number) > 4:
        area, rest = number[3], number[4:]
        if area == "7":
            return ["Australia/Brisbane"]  # Queensland keeps no daylight saving
        if area in "23":
            return ["Australia/Sydney"] if area == "2" else ["Australia/Melbourne"]
        if area == "8":
            if rest.startswith("89"):
                return ["Australia/Darwin"]
            return ["Australia/Perth"] if rest[:1] in "69" else ["Australia/Adelaide"]
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        zones = ()
    known = [z for z in zones if z != "Etc/Unknown"]
    return known or ["Australia/Perth", "Australia/Sydney"]  # unknown: both ends of the mainland


def outside_hours(request: Request) -> str | None:
    """Why `request` is outside permitted hours, or None when it is inside them everywhere."""
    hours = HOURS[request.channel]
    zones = [request.time_zone] if request.time_zone else zones_of(request.number)
    for zone in zones:
        local = request.at.astimezone(ZoneInfo(zone))
        window = hours.get(local.weekday())
        if is_national_public_holiday(local.date()):
            return f"no marketing {request.channel}s on a national public holiday ({zone} {local:%Y-%m-%d})"
        if window is None:
            return f"no marketing {request.channel}s on a Sunday ({zone})"
        if not window[0] <= local.time() < window[1]:
            return (
                f"outside permitted hours {window[0]:%H:%M}-{window[1]:%H:%M} in {zone} "
                f"(local time {local:%a %H:%M})"
            )
    return None


def mask_number(number: str) -> str:
    """A number as logs may show it: all but the last three digits hidden."""
    return "*" * max(0, len(number) - 3) + number[-3:]
