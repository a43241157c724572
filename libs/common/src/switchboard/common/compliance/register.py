"""The Do Not Call register as Switchboard keeps it: per tenant, the wash results it imported, the
consents it recorded, its policy, and every decision the gate made (the compliance record).

Wash files are the register's CSV answer: `number,registered,washed_on` (yes/no; YYYY-MM-DD).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import tuple_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common import prefetch
from switchboard.common.centre import CentreConfig
from switchboard.common.compliance.dnc import (
    Consent,
    Decision,
    Facts,
    Policy,
    Request,
    Wash,
    decide,
)
from switchboard.common.envelope import utcnow
from switchboard.common.errors import InvalidInput
from switchboard.common.phone import e164

REQUIRED_HEADER = ["number", "registered", "washed_on"]


class WashedNumber(SQLModel, table=True):
    __tablename__ = "dnc_washed_number"

    tenant_id: str = Field(primary_key=True, max_length=64)
    number: str = Field(primary_key=True, max_length=20)
    registered: bool
    washed_on: date
    imported_at: datetime = Field(default_factory=utcnow)


class RecordedConsent(SQLModel, table=True):
    __tablename__ = "dnc_consent"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    number: str = Field(max_length=20, index=True)
    source: str = Field(max_length=200)
    given_on: date
    expires_on: date | None = None


class TenantDncPolicy(SQLModel, table=True):
    __tablename__ = "dnc_policy"

    tenant_id: str = Field(primary_key=True, max_length=64)
    exemption: str | None = Field(default=None, max_length=32)
    outsources_telemarketing: bool = False
    contract_dnc_clause: str | None = Field(default=None, max_length=500)
    wash_validity_days: int = 30


class DncDecision(SQLModel, table=True):
    """Every decision of the gate, with its reason."""

    __tablename__ = "dnc_decision"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    request_id: str = Field(max_length=64, index=True)
    number: str = Field(max_length=20)
    channel: str = Field(max_length=8)
    purpose: str = Field(max_length=32)
    outcome: str = Field(max_length=8)
    reason: str = Field(max_length=300)
    decided_at: datetime = Field(default_factory=utcnow)


def parse_wash_file(text: str, *, region: str = "AU") -> tuple[list[WashedNumber], list[str]]:
    """The rows of a wash file, and the lines that could not be read (with why)."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header != REQUIRED_HEADER:
        raise InvalidInput(
            f"the header must be {','.join(REQUIRED_HEADER)}, not {','.join(header)!r}"
        )
    rows: dict[str, WashedNumber] = {}
    rejected: list[str] = []
    for line_number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        try:
            number, registered, washed_on = (f.strip() for f in fields)
            flag = {"yes": True, "no": False}[registered.lower()]
            normal = e164(number, region)
            rows[normal] = WashedNumber(
                tenant_id="",
                number=normal,
                registered=flag,
                washed_on=date.fromisoformat(washed_on),
            )
        except (ValueError, KeyError, InvalidInput) as error:
            rejected.append(f"line {line_number}: {type(error).__name__}: {error}")
    return list(rows.values()), rejected


async def import_wash(session: AsyncSession, *, tenant_id: str, rows: list[WashedNumber]) -> None:
    """Upsert the wash results: a number's newest wash replaces an older one. The numbers already
    washed are read in a few queries, not one each (a wash file has thousands)."""
    await prefetch.load(session, WashedNumber, [(tenant_id, row.number) for row in rows])
    for row in rows:
        existing = await prefetch.find(session, WashedNumber, (tenant_id, row.number))
        if existing is None:
            session.add(
                WashedNumber(
                    tenant_id=tenant_id,
                    number=row.number,
                    registered=row.registered,
                    washed_on=row.washed_on,
                )
            )
        elif existing.washed_on <= row.washed_on:
            existing.registered, existing.washed_on = row.registered, row.washed_on
            existing.imported_at = utcnow()


async def apply_centre(session: AsyncSession, centre: CentreConfig) -> None:
    for tenant in centre.tenants:
        await session.merge(TenantDncPolicy(tenant_id=tenant.id, **tenant.dnc.model_dump()))


async def add_consent(
    session: AsyncSession,
    *,
    tenant_id: str,
    number: str,
    source: str,
    given_on: date,
    expires_on: date | None,
) -> None:
    session.add(
        RecordedConsent(
            tenant_id=tenant_id,
            number=number,
            source=source,
            given_on=given_on,
            expires_on=expires_on,
        )
    )


async def check(session: AsyncSession, request: Request) -> Decision:
    """The gate's decision for `request` (its number already in E.164), read from the database
    (`decided_from_read_ahead` answers for a number read ahead)."""
    facts = await facts_for(session, tenant_id=request.tenant_id, number=request.number)
    policy = await policy_for(session, tenant_id=request.tenant_id)
    return decide(request, facts, policy)


_READ_AHEAD = (__name__, "read ahead")
_KEYS_PER_QUERY = 250
"""(tenant, number) pairs per `IN` list: two bound values each."""


async def read_ahead(session: AsyncSession, wanted: Iterable[tuple[str, str]]) -> None:
    """Read the register's facts for every (tenant, E.164 number) of a batch of requests, and each
    tenant's policy, in a few queries: `check` then asks the database nothing for them. A request
    at a time costs a wash look-up and a consents query each (and the flush of the decision
    before it)."""
    keys = list(dict.fromkeys(wanted))
    washes: dict[tuple[str, str], Wash] = {}
    consents: dict[tuple[str, str], list[Consent]] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        pairs = tuple_(col(WashedNumber.tenant_id), col(WashedNumber.number)).in_(chunk)
        for wash in await session.exec(select(WashedNumber).where(pairs)):
            washes[(wash.tenant_id, wash.number)] = Wash(wash.registered, wash.washed_on)
        given = tuple_(col(RecordedConsent.tenant_id), col(RecordedConsent.number)).in_(chunk)
        for consent in await session.exec(select(RecordedConsent).where(given)):
            consents.setdefault((consent.tenant_id, consent.number), []).append(
                Consent(consent.source, consent.given_on, consent.expires_on)
            )
    policies = {t: await policy_for(session, tenant_id=t) for t in {t for t, _ in keys}}
    read = _read(session)
    for key in keys:
        read[key] = (Facts(washes.get(key), consents.get(key, [])), policies[key[0]])


def decided_from_read_ahead(session: AsyncSession, request: Request) -> Decision | None:
    """The decision from what `read_ahead` read in this session, or None where it read nothing
    for this number (the database must be asked)."""
    known = _read(session).get((request.tenant_id, request.number))
    return None if known is None else decide(request, *known)


def _read(session: AsyncSession) -> dict[tuple[str, str], tuple[Facts, Policy]]:
    """What `read_ahead` read in this session: (tenant, number) → its facts and its policy."""
    read: dict[tuple[str, str], tuple[Facts, Policy]] = session.info.setdefault(_READ_AHEAD, {})
    return read


async def facts_for(session: AsyncSession, *, tenant_id: str, number: str) -> Facts:
    wash = await session.get(WashedNumber, (tenant_id, number))
    consents = await session.exec(
        select(RecordedConsent).where(
            RecordedConsent.tenant_id == tenant_id, RecordedConsent.number == number
        )
    )
    return Facts(
        Wash(wash.registered, wash.washed_on) if wash else None,
        [Consent(c.source, c.given_on, c.expires_on) for c in consents],
    )


async def policy_for(session: AsyncSession, *, tenant_id: str) -> Policy:
    row = await session.get(TenantDncPolicy, tenant_id)
    if row is None:
        return Policy()
    return Policy(
        row.exemption, row.outsources_telemarketing, row.contract_dnc_clause, row.wash_validity_days
    )


async def record_decision(
    session: AsyncSession, *, request_id: str, request: Request, decision: Decision
) -> None:
    session.add(
        DncDecision(
            tenant_id=request.tenant_id,
            request_id=request_id,
            number=request.number,
            channel=request.channel,
            purpose=request.purpose,
            outcome=decision.outcome,
            reason=decision.reason,
        )
    )
