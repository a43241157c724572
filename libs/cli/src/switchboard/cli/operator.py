"""`switchboard operator ...`: the people who run the centre, their roles, and ending their access.

An account is written to every service's database (each checks tokens against its own copy), so a
revocation takes effect in every service at once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.cli import migrations
from switchboard.cli.seed import in_each_database
from switchboard.common import operators
from switchboard.common.passwords import hash_password
from switchboard.common.settings import Settings

app = typer.Typer(help="Operators: add or change one, list them, revoke one's access.")
Tenant = Annotated[str, typer.Option("--tenant", help="The tenant the person works for.")]
T = TypeVar("T")


async def in_every_database(change: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Apply `change` in each service's database (once where they share one); the first's answer."""
    answers: list[T] = []

    async def apply(session: AsyncSession, _services: list[str]) -> None:
        answers.append(await change(session))

    settings = Settings()
    await migrations.upgrade_all(settings.database_urls)
    await in_each_database(settings, apply)
    return answers[0]


@app.command()
def add(
    username: str,
    tenant: Tenant,
    role: Annotated[
        list[str], typer.Option("--role", help=f"One of: {', '.join(operators.OPERATOR_ROLES)}.")
    ],
    password: Annotated[
        str | None, typer.Option(help="Unset: a new one is made and printed once.")
    ] = None,
    name: Annotated[str, typer.Option(help="The person's name, for screens.")] = "",
    oidc_subject: Annotated[
        str | None, typer.Option(help="Their `sub` at the centre's identity provider.")
    ] = None,
) -> None:
    """Add a person, or change their roles or password (which ends their signed-in tokens)."""
    try:
        roles = operators.check_roles(role)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    made = password is None and oidc_subject is None
    secret = secrets.token_urlsafe(12) if made else password
    stored = hash_password(secret) if secret else None  # one hash, the same in every database

    async def change(session: AsyncSession) -> operators.OperatorAccount:
        return await operators.add(
            session,
            tenant_id=tenant,
            username=username,
            roles=roles,
            password_hash=stored,
            display_name=name,
            oidc_subject=oidc_subject,
        )

    account = asyncio.run(in_every_database(change))
    typer.echo(f"{account.username} ({tenant}): {', '.join(account.roles)}")
    if made:
        typer.echo(f"password: {secret}")


@app.command("list")
def list_(tenant: Annotated[str | None, typer.Option(help="Only this tenant's.")] = None) -> None:
    """Everyone with an account, their roles, and whether their access is revoked."""

    async def read(session: AsyncSession) -> list[operators.OperatorAccount]:
        return await operators.listed(session, tenant_id=tenant)

    for account in asyncio.run(in_every_database(read)):
        status = f"revoked {account.revoked_at:%Y-%m-%d %H:%M}" if account.revoked_at else "active"
        typer.echo(
            f"{account.tenant_id:<12} {account.username:<20} {','.join(account.roles):<40} {status}"
        )


@app.command()
def revoke(username: str, tenant: Tenant) -> None:
    """End a person's access: every token they hold is refused from now on, in every service."""

    async def change(session: AsyncSession) -> operators.OperatorAccount | None:
        return await operators.revoke(session, tenant_id=tenant, username=username)

    if asyncio.run(in_every_database(change)) is None:
        typer.echo(f"no operator {username} in {tenant}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {username} ({tenant})")
