"""Seeding a centre: the schema, the centre configuration, and the credentials the demo and an
operator need (`<var_dir>/dev-credentials.json`, mode 0600, reused across runs)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.cli import migrations
from switchboard.common import auth, operator_tokens, operators
from switchboard.common.centre import CentreConfig, load_centre
from switchboard.common.compliance import register as dnc_register
from switchboard.common.db import Database
from switchboard.common.passwords import hash_password, verify_password
from switchboard.common.settings import Settings

DEMO_OPERATORS = {
    "admin": "administrator",
    "leader": "team_leader",
    "dispatcher": "dispatcher",
    "analyst": "quality_analyst",
    "privacy": "privacy_officer",
    "viewer": "read_only",
}
"""One demo person per role, in the demo tenant."""


def centre_config(settings: Settings) -> CentreConfig:
    if settings.centre_config is not None:
        return load_centre(settings.centre_config)
    return load_centre(Path(str(files("switchboard.cli") / "demo-centre.yaml")))


def credentials(settings: Settings, centre: CentreConfig) -> dict[str, Any]:
    """The existing credentials file's secrets where it has them, new ones where it does not."""
    existing: dict[str, Any] = {}
    if settings.credentials_file.exists():
        existing = json.loads(settings.credentials_file.read_text(encoding="utf-8"))
    systems = existing.get("channel_systems", {})
    agents = existing.get("agents", {})
    people = existing.get("operators", {})
    demo_tenant = centre.tenants[0]
    return {
        "channel_systems": {
            s.id: {
                "secret": systems.get(s.id, {}).get("secret") or secrets.token_hex(32),
                "tenant": s.tenant,
            }
            for s in centre.channel_systems
        },
        "agents": {
            a.id: {
                "password": agents.get(a.id, {}).get("password") or secrets.token_urlsafe(12),
                "tenant": a.tenants[0],
            }
            for a in centre.agents
        },
        "operator_token": existing.get("operator_token") or auth.new_token(),
        "operators": {
            username: {
                "password": people.get(username, {}).get("password") or secrets.token_urlsafe(12),
                "tenant": demo_tenant.id,
                "roles": [role],
            }
            for username, role in DEMO_OPERATORS.items()
        },
        "gateway_token": existing.get("gateway_token") or auth.new_token(),
        "tenants": {
            t.id: {
                "email": next(iter(t.addresses.email), None),
                "phone": next(iter(t.addresses.phone), None),
                "fax": next(iter(t.addresses.fax), None),
                "sms": next(iter(t.addresses.sms), None),
                "chat": next(iter(t.addresses.chat), None),
            }
            for t in centre.tenants
        },
        "operator_tenant": demo_tenant.id,
    }


async def _identities(
    settings: Settings, people: dict[str, dict[str, Any]]
) -> tuple[operator_tokens.IssuerKey, dict[str, str]]:
    """The key operators' tokens are signed with (the desktop's, or a new one) and each demo
    person's password hash: the stored one while it still matches, so seeding again keeps
    everyone signed in."""
    db = Database(settings.sqlalchemy_url_for("desktop"))
    try:
        await migrations.upgrade(db.url)
        async with db.reader() as session:
            key = await operator_tokens.newest_issuer_key(session)
            hashes = {}
            for username, person in people.items():
                account = await operators.by_username(
                    session, tenant_id=person["tenant"], username=username
                )
                stored = account.password_hash if account else None
                keep = stored is not None and verify_password(person["password"], stored)
                hashes[username] = stored if keep and stored else hash_password(person["password"])
    finally:
        await db.dispose()
    if key is None or key.private_jwk is None:
        key = operator_tokens.new_issuer_key()
    return key, hashes


def write_credentials(path: Path, creds: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(creds, file, indent=2)
    os.chmod(path, 0o600)


async def seed(settings: Settings) -> dict[str, Any]:
    """Migrate the schema, apply the centre configuration, grant the operator token; returns the
    credentials (also written to the credentials file)."""
    from switchboard.catalogue import store as catalogue_store
    from switchboard.desktop import quality as desktop_quality
    from switchboard.desktop import store as desktop_store
    from switchboard.dispatch import store as dispatch_store
    from switchboard.escalation import store as escalation_store
    from switchboard.intake import store as intake_store
    from switchboard.recording import kpis as recording_kpis
    from switchboard.routing import store as routing_store
    from switchboard.workforce import store as workforce_store

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    centre = centre_config(settings)
    creds = credentials(settings, centre)
    secrets_by_system = {k: v["secret"] for k, v in creds["channel_systems"].items()}
    passwords = {k: v["password"] for k, v in creds["agents"].items()}
    steps: dict[str, list[Callable[[AsyncSession], Awaitable[object]]]] = {
        "intake": [lambda s: intake_store.apply_centre(s, centre, secrets_by_system)],
        "routing": [
            lambda s: routing_store.apply_centre(s, centre),
            lambda s: dnc_register.apply_centre(s, centre),  # the gate reads it in routing
        ],
        "recording": [
            lambda s: recording_kpis.apply_centre(s, centre),
            lambda s: auth.grant_gateway(s, token=creds["gateway_token"], label="desktop"),
        ],
        "desktop": [
            lambda s: desktop_store.apply_centre(s, centre, passwords),
            *(
                lambda s, service=service: desktop_quality.keep_gateway_token(
                    s, service=service, token=creds["gateway_token"]
                )
                for service in ("recording", "catalogue")
            ),
        ],
        "escalation": [lambda s: escalation_store.apply_centre(s, centre)],
        "dispatch": [lambda s: dispatch_store.apply_centre(s, centre)],
        "workforce": [lambda s: workforce_store.apply_centre(s, centre)],
        "catalogue": [
            lambda s: catalogue_store.apply_centre(s, centre),
            lambda s: auth.grant_gateway(s, token=creds["gateway_token"], label="desktop"),
        ],
    }
    issuer_key, hashes = await _identities(settings, creds["operators"])
    served: dict[str, list[str]] = {}
    for service, url in settings.databases.items():
        served.setdefault(url, []).append(service)
    for url, services in served.items():
        await migrations.upgrade(url)
        db = Database(url)
        try:
            async with db.session() as session:
                for service in services:
                    for step in steps[service]:
                        await step(session)
                await auth.grant(  # each service checks operators' tokens in its own database
                    session,
                    token=creds["operator_token"],
                    tenant_id=creds["operator_tenant"],
                    label="demo operator",
                )
                await operator_tokens.keep_issuer_key(
                    session, issuer_key, private="desktop" in services
                )
                for username, person in creds["operators"].items():
                    await operators.add(
                        session,
                        tenant_id=person["tenant"],
                        username=username,
                        roles=person["roles"],
                        password_hash=hashes[username],
                    )
        finally:
            await db.dispose()
    write_credentials(settings.credentials_file, creds)
    return creds
