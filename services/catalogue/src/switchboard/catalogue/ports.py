"""What the catalogue asks of the outside world, and the adapters: a credit bureau and a payment
provider that turns card details into a token. Each has a real HTTP adapter (URL and key in
settings) and a deterministic stand-in for the embedded default. Card details pass through to the
provider and are dropped: nothing here keeps or logs them."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

import httpx

from switchboard.catalogue.settings import CatalogueSettings
from switchboard.common.compliance.pii import holds_card_number
from switchboard.common.tls import client_tls

Decision = Literal["approved", "declined", "refer"]
TOKEN = re.compile(r"[A-Za-z0-9_.:-]{4,128}")
"""A payment token as a field job's payment carries it (`events.desktop.Payment`)."""


class PortUnavailable(Exception):
    """The bureau or the payment provider did not answer usably (HTTP 503 to the caller)."""


@dataclass(frozen=True)
class Applicant:
    name: str
    date_of_birth: date
    address: str


@dataclass(frozen=True)
class CreditDecision:
    decision: Decision
    reason: str
    reference: str


class CreditBureau(Protocol):
    async def check(
        self, applicant: Applicant, *, amount_cents: int, today: date
    ) -> CreditDecision: ...


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str


class PaymentProvider(Protocol):
    async def tokenise(
        self, *, number: str, expiry: str, name: str, security_code: str | None
    ) -> CardToken: ...


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class StandInBureau:
    """Approves what fits under one credit limit; declines applicants under 18. Its reference is
    a hash of the question, so the same check gives the same answer."""

    limit_cents: int

    async def check(
        self, applicant: Applicant, *, amount_cents: int, today: date
    ) -> CreditDecision:
        asked = f"{applicant.name}|{applicant.date_of_birth}|{amount_cents}".encode()
        reference = "SB-" + hashlib.sha256(asked).hexdigest()[:12].upper()
        if _age(applicant.date_of_birth, today) < 18:
            return CreditDecision("declined", "the applicant is under 18", reference)
        if amount_cents > self.limit_cents:
            return CreditDecision("declined", "the amount is over the credit available", reference)
        return CreditDecision("approved", "within the credit available", reference)


@dataclass(frozen=True)
class HttpBureau:
    url: str
    key: str | None
    timeout: float

    async def check(
        self, applicant: Applicant, *, amount_cents: int, today: date
    ) -> CreditDecision:
        body = {
            "name": applicant.name,
            "date_of_birth": applicant.date_of_birth.isoformat(),
            "address": applicant.address,
            "amount_cents": amount_cents,
        }
        answer = await _post(f"{self.url.rstrip('/')}/checks", body, self.key, self.timeout)
        decision = answer.get("decision")
        if decision not in ("approved", "declined", "refer"):
            raise PortUnavailable(f"the bureau answered an unknown decision {decision!r}")
        return CreditDecision(
            decision, str(answer.get("reason", ""))[:500], str(answer.get("reference", ""))[:64]
        )


TOKEN_LETTERS = "abcdefghjkmnpqrstuvwxyz"
"""The stand-in's tokens are letters only: a hex token can hold a run of digits that passes the
Luhn check, and such a token is refused wherever a payment token travels."""


@dataclass(frozen=True)
class StandInProvider:
    """A token from a keyed hash of the card, as a provider's vault would give (the key is the
    process's own, so a token means nothing anywhere else)."""

    key: bytes

    async def tokenise(
        self, *, number: str, expiry: str, name: str, security_code: str | None
    ) -> CardToken:
        from switchboard.catalogue.domain import card_brand

        mac = hmac.new(self.key, f"{number}|{expiry}".encode(), hashlib.sha256).digest()
        letters = "".join(TOKEN_LETTERS[byte % len(TOKEN_LETTERS)] for byte in mac[:24])
        return CardToken("tok_" + letters, card_brand(number), number[-4:])


@dataclass(frozen=True)
class HttpProvider:
    url: str
    key: str | None
    timeout: float

    async def tokenise(
        self, *, number: str, expiry: str, name: str, security_code: str | None
    ) -> CardToken:
        body = {"number": number, "expiry": expiry, "name": name, "security_code": security_code}
        answer = await _post(f"{self.url.rstrip('/')}/tokens", body, self.key, self.timeout)
        token = str(answer.get("token", ""))[:128]
        if not TOKEN.fullmatch(token) or holds_card_number(token):
            raise PortUnavailable("the payment provider gave no usable token")
        return CardToken(token, str(answer.get("brand", "card"))[:20], number[-4:])


async def _post(
    url: str, body: Mapping[str, object], key: str | None, timeout: float
) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=client_tls()) as client:
            answer = await client.post(url, json=body, headers=headers)
        answer.raise_for_status()
        found = answer.json()
    except (httpx.HTTPError, ValueError) as error:  # never the body: it may hold card details
        raise PortUnavailable(f"{url} failed: {type(error).__name__}") from None
    if not isinstance(found, dict):
        raise PortUnavailable(f"{url} answered something other than an object")
    return found


def bureau(settings: CatalogueSettings) -> CreditBureau:
    if settings.catalogue_bureau_url:
        key = settings.catalogue_bureau_key
        return HttpBureau(
            settings.catalogue_bureau_url,
            key.get_secret_value() if key else None,
            settings.catalogue_port_timeout_seconds,
        )
    return StandInBureau(int(settings.catalogue_fake_credit_limit * Decimal(100)))


def payments(settings: CatalogueSettings, stand_in_key: bytes) -> PaymentProvider:
    if settings.catalogue_payments_url:
        key = settings.catalogue_payments_key
        return HttpProvider(
            settings.catalogue_payments_url,
            key.get_secret_value() if key else None,
            settings.catalogue_port_timeout_seconds,
        )
    return StandInProvider(stand_in_key)
