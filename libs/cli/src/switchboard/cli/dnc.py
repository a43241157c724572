"""`switchboard dnc ...`: the operator's side of the Do Not Call register."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from switchboard.cli import migrations
from switchboard.common.compliance import register
from switchboard.common.compliance.dnc import Decision, Request, blocked
from switchboard.common.db import Database
from switchboard.common.errors import InvalidInput
from switchboard.common.ids import new_id
from switchboard.common.phone import e164
from switchboard.common.settings import Settings

app = typer.Typer(
    help="The Do Not Call register: import wash results, record consent, check a number."
)
Tenant = Annotated[str, typer.Option("--tenant", help="The tenant whose register this is.")]


def _database() -> Database:
    """Routing's: its gate is what reads the register."""
    return Database(Settings().sqlalchemy_url_for("routing"))


@app.command("import")
def import_wash(file: Path, tenant: Tenant) -> None:
    """Import a wash result file (CSV header: number,registered,washed_on)."""
    try:
        rows, rejected = register.parse_wash_file(file.read_text(encoding="utf-8-sig"))
    except InvalidInput as error:
        typer.echo(f"{file}: {error.reason}", err=True)
        raise typer.Exit(2) from None

    async def run() -> None:
        db = _database()
        try:
            await migrations.upgrade(db.url)
            async with db.session() as session:
                await register.import_wash(session, tenant_id=tenant, rows=rows)
        finally:
            await db.dispose()

    asyncio.run(run())
    registered = sum(row.registered for row in rows)
    typer.echo(
        f"imported {len(rows)} numbers for {tenant} ({registered} registered, {len(rejected)} lines rejected)"
    )
    for line in rejected:
        typer.echo(f"  rejected {line}", err=True)


@app.command()
def consent(
    number: str,
    tenant: Tenant,
    source: Annotated[
        str, typer.Option(help="Where the consent was given (form, call recording ...).")
    ],
    given: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD; none: until withdrawn")] = None,
) -> None:
    """Record a customer's express consent to marketing contact."""

    async def run() -> None:
        db = _database()
        try:
            await migrations.upgrade(db.url)
            async with db.session() as session:
                await register.add_consent(
                    session,
                    tenant_id=tenant,
                    number=e164(number),
                    source=source,
                    given_on=date.fromisoformat(given),
                    expires_on=date.fromisoformat(expires) if expires else None,
                )
        finally:
            await db.dispose()

    asyncio.run(run())
    typer.echo(f"consent recorded for {e164(number)} ({tenant})")


@app.command("check")
def check_number(
    number: str,
    tenant: Tenant,
    purpose: Annotated[Literal["marketing", "service"], typer.Option(help="marketing or service")],
    channel: Annotated[
        Literal["call", "fax", "sms"], typer.Option(help="call, fax or sms")
    ] = "call",
    at: Annotated[
        str | None, typer.Option(help="When the contact would be made (ISO 8601); now if absent")
    ] = None,
) -> None:
    """Ask the gate about one number; the decision is recorded like any other."""
    when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    decision = asyncio.run(_check(number, tenant, purpose, channel, when))
    typer.echo(json.dumps({"decision": decision.outcome, "reason": decision.reason}))


async def _check(number: str, tenant: str, purpose: str, channel: str, when: datetime) -> Decision:
    try:
        normal = e164(number)
    except InvalidInput as error:
        return blocked(error.reason)
    request = Request(tenant_id=tenant, number=normal, channel=channel, purpose=purpose, at=when)  # type: ignore[arg-type]
    db = _database()
    try:
        async with db.session() as session:
            decision = await register.check(session, request)
            await register.record_decision(
                session, request_id=f"cli-{new_id()}", request=request, decision=decision
            )
    except Exception as error:  # fail closed: a register that cannot be read clears nothing
        return blocked(f"the register could not be read ({type(error).__name__})")
    finally:
        await db.dispose()
    return decision
