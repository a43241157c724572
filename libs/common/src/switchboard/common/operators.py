"""Operators as people: an account per person and tenant, with roles, a hashed password (none for
a person who signs in through the centre's own identity provider) and a revocation that ends every
token they hold.

Like the operator tokens and the Do Not Call register, the accounts are a shared table written
where they are read: into every service's database (`switchboard operator add|list|revoke` and
`switchboard seed` do that), so each service checks a token against its own copy.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.envelope import utcnow
from switchboard.common.passwords import hash_password

Role = Literal[
    "administrator", "team_leader", "dispatcher", "quality_analyst", "privacy_officer", "read_only"
]
OPERATOR_ROLES: tuple[str, ...] = get_args(Role)
"""What a person may do. An administrator may do everything within their tenant; a team leader
(supervisor) runs the floor (agents, queues, rosters, coaching); a dispatcher the field work; a
quality analyst evaluations; a privacy officer customers' records, corrections and erasure; a
read-only person sees figures and configuration, never a customer's record."""
_NAMESPACE = uuid.UUID("0d3e2b9c-61c4-4f7b-9a7e-3f1c2a8d5e40")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OperatorAccount(SQLModel, table=True):
    __tablename__ = "operator_account"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    operator_id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    username: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str | None = Field(default=None, max_length=200)
    oidc_subject: str | None = Field(default=None, max_length=200, index=True)
    """The person's `sub` at the centre's OIDC provider, when they sign in there."""
    created_at: datetime = Field(default_factory=utcnow)
    tokens_valid_after: datetime = Field(default_factory=utcnow)
    """Tokens issued before this are refused: revoking, or changing the password, moves it on."""
    revoked_at: datetime | None = None


def operator_id(tenant_id: str, username: str) -> str:
    """The same id in every service's database for the same person."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/{username.casefold()}"))


def check_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(OPERATOR_ROLES))
    if unknown or not roles:
        raise ValueError(
            f"roles must be some of {', '.join(OPERATOR_ROLES)}; got {', '.join(roles) or 'none'}"
        )
    return sorted(set(roles))


async def add(
    session: AsyncSession,
    *,
    tenant_id: str,
    username: str,
    roles: list[str],
    password: str | None = None,
    password_hash: str | None = None,
    display_name: str = "",
    oidc_subject: str | None = None,
    now: datetime | None = None,
) -> OperatorAccount:
    """Create the account, or change it: new roles, a new password (which ends the tokens signed
    in with the old one) and a revoked account made active again (its old tokens stay refused)."""
    now = now or utcnow()
    key = operator_id(tenant_id, username)
    account = await session.get(OperatorAccount, key)
    if account is None:  # no token of theirs can predate it but their identity provider's
        account = OperatorAccount(
            operator_id=key, tenant_id=tenant_id, username=username, tokens_valid_after=EPOCH
        )
    account.roles = check_roles(roles)
    account.display_name = display_name or account.display_name or username
    account.oidc_subject = oidc_subject or account.oidc_subject
    if password is not None or password_hash is not None:
        new_hash = password_hash or hash_password(password or "")
        if new_hash != account.password_hash:
            account.password_hash = new_hash
            account.tokens_valid_after = now
    if account.revoked_at is not None:
        account.revoked_at = None
        account.tokens_valid_after = now
    session.add(account)
    return account


async def revoke(
    session: AsyncSession, *, tenant_id: str, username: str, now: datetime | None = None
) -> OperatorAccount | None:
    """End the person's access: every token they hold is refused from now on."""
    account = await session.get(OperatorAccount, operator_id(tenant_id, username))
    if account is None:
        return None
    account.revoked_at = account.tokens_valid_after = now or utcnow()
    session.add(account)
    return account


async def listed(session: AsyncSession, *, tenant_id: str | None = None) -> list[OperatorAccount]:
    query = select(OperatorAccount)
    if tenant_id is not None:
        query = query.where(OperatorAccount.tenant_id == tenant_id)
    order = (col(OperatorAccount.tenant_id), col(OperatorAccount.username))
    return list(await session.exec(query.order_by(*order)))


async def by_username(
    session: AsyncSession, *, tenant_id: str, username: str
) -> OperatorAccount | None:
    return await session.get(OperatorAccount, operator_id(tenant_id, username))


async def by_oidc_subject(session: AsyncSession, *, subject: str) -> OperatorAccount | None:
    query = select(OperatorAccount).where(OperatorAccount.oidc_subject == subject)
    return (await session.exec(query)).first()
