"""`switchboard tenant add FILE`: onboard tenants into a centre while it runs.

FILE is a centre file (the shape of `demo-centre.yaml`) holding the new tenants with their channel
systems, agents and technicians. Each service's database takes its part, and each service takes
the tenant up on first use, with no restart. The new secrets and passwords are printed once (and
merged into the credentials file, but for the administrator's password).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from switchboard.cli.seed import add_tenants
from switchboard.common.centre import load_centre
from switchboard.common.settings import Settings

app = typer.Typer(help="Tenants: onboard new ones into a running centre.")


@app.command()
def add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A centre file.")],
    administrator: Annotated[
        str | None,
        typer.Option(help="Also make this person each new tenant's first administrator."),
    ] = None,
) -> None:
    """Add the tenants of FILE (or change them: adding again is harmless)."""
    try:
        centre = load_centre(file)
    except (ValidationError, ValueError) as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(2) from error
    people = {administrator: ["administrator"]} if administrator else {}
    added = asyncio.run(add_tenants(Settings(), centre, people=people))
    typer.echo(json.dumps(added, indent=2))
