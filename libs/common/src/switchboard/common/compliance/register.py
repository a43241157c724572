"""The Do Not Call register as Switchboard keeps it: per tenant, the wash results it imported, the
consents it recorded, its policy, and every decision the gate made (the compliance record).

Wash files are the register's CSV answer: `number,registered,washed_on` (yes/no; YYYY-MM-DD).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
    """Upsert the wash results: a number's newest wash replaces an older one."""
    for row in rows:
        existing = await session.get(WashedNumber, (tenant_id, row.number))
        if existing is not None and existing.washed_on > row.washed_on:
            continue
        await session.merge(
            WashedNumber(
                tenant_id=tenant_id,
                number=row.number,
                registered=row.registered,
                washed_on=row.washed_on,
            )
        )


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
    """The gate's decision for `request` (its number already in E.164)."""
    facts = await facts_for(session, tenant_id=request.tenant_id, number=request.number)
    policy = await policy_for(session, tenant_id=request.tenant_id)
    return decide(request, facts, policy)


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
