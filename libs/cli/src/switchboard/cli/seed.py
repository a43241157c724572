"""Seeding a centre: the schema, the centre configuration, and the credentials the demo and an
operator need (`<var_dir>/dev-credentials.json`, mode 0600, reused across runs)."""

from __future__ import annotations

import functools
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


def _existing(settings: Settings) -> dict[str, Any]:
    if settings.credentials_file.exists():
        return dict(json.loads(settings.credentials_file.read_text(encoding="utf-8")))
    return {}


def _secrets(centre: CentreConfig, existing: dict[str, Any]) -> dict[str, Any]:
    """The channel systems' secrets, the agents' passwords and the tenants' addresses of `centre`:
    the ones `existing` holds where it has them, new ones where it does not."""
    systems = existing.get("channel_systems", {})
    agents = existing.get("agents", {})
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
    }


def credentials(settings: Settings, centre: CentreConfig) -> dict[str, Any]:
    """The existing credentials file's secrets where it has them, new ones where it does not."""
    existing = _existing(settings)
    people = existing.get("operators", {})
    demo_tenant = centre.tenants[0]
    return {
        **_secrets(centre, existing),
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


Step = Callable[[AsyncSession], Awaitable[object]]


def configuration_steps(centre: CentreConfig, creds: dict[str, Any]) -> dict[str, list[Step]]:
    """What each service keeps of a centre file, in its own database (additive: a tenant not in
    `centre` is left as it is)."""
    from switchboard.catalogue import store as catalogue_store
    from switchboard.desktop import store as desktop_store
    from switchboard.dispatch import store as dispatch_store
    from switchboard.escalation import store as escalation_store
    from switchboard.intake import store as intake_store
    from switchboard.recording import kpis as recording_kpis
    from switchboard.routing import store as routing_store
    from switchboard.workforce import store as workforce_store

    secrets_by_system = {k: v["secret"] for k, v in creds["channel_systems"].items()}
    passwords = {k: v["password"] for k, v in creds["agents"].items()}
    return {
        "intake": [lambda s: intake_store.apply_centre(s, centre, secrets_by_system)],
        "routing": [
            lambda s: routing_store.apply_centre(s, centre),
            lambda s: dnc_register.apply_centre(s, centre),  # the gate reads it in routing
        ],
        "recording": [lambda s: recording_kpis.apply_centre(s, centre)],
        "desktop": [lambda s: desktop_store.apply_centre(s, centre, passwords)],
        "escalation": [lambda s: escalation_store.apply_centre(s, centre)],
        "dispatch": [lambda s: dispatch_store.apply_centre(s, centre)],
        "workforce": [lambda s: workforce_store.apply_centre(s, centre)],
        "catalogue": [lambda s: catalogue_store.apply_centre(s, centre)],
    }


def _gateway_steps(gateway_token: str) -> dict[str, list[Step]]:
    """The desktop calls recording and the catalogue for its agents with one gateway token."""
    from switchboard.desktop.quality import keep_gateway_token

    async def grant(session: AsyncSession) -> None:
        await auth.grant_gateway(session, token=gateway_token, label="desktop")

    return {
        "recording": [grant],
        "catalogue": [grant],
        "desktop": [
            functools.partial(keep_gateway_token, service=service, token=gateway_token)
            for service in ("recording", "catalogue")
        ],
    }


async def in_each_database(
    settings: Settings, change: Callable[[AsyncSession, list[str]], Awaitable[None]]
) -> None:
    """Apply `change(session, the services it serves)` in one transaction in each database (once
    where services share a database), migrated to head first by the caller."""
    served: dict[str, list[str]] = {}
    for service, url in settings.databases.items():
        served.setdefault(url, []).append(service)
    for url, services in served.items():
        db = Database(url)
        try:
            async with db.session() as session:
                await change(session, services)
        finally:
            await db.dispose()


async def seed(settings: Settings) -> dict[str, Any]:
    """Migrate the schema, apply the centre configuration, grant the operator token; returns the
    credentials (also written to the credentials file)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    centre = centre_config(settings)
    creds = credentials(settings, centre)
    configuration = configuration_steps(centre, creds)
    gateway = _gateway_steps(creds["gateway_token"])
    await migrations.upgrade_all(settings.database_urls)
    issuer_key, hashes = await _identities(settings, creds["operators"])

    async def change(session: AsyncSession, services: list[str]) -> None:
        for service in services:
            for step in [*configuration[service], *gateway.get(service, [])]:
                await step(session)
        await auth.grant(  # each service checks operators' tokens in its own database
            session,
            token=creds["operator_token"],
            tenant_id=creds["operator_tenant"],
            label="demo operator",
        )
        await operator_tokens.keep_issuer_key(session, issuer_key, private="desktop" in services)
        for username, person in creds["operators"].items():
            await operators.add(
                session,
                tenant_id=person["tenant"],
                username=username,
                roles=person["roles"],
                password_hash=hashes[username],
            )

    await in_each_database(settings, change)
    write_credentials(settings.credentials_file, creds)
    return creds


async def add_tenants(
    settings: Settings, centre: CentreConfig, *, people: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """Onboard the tenants of `centre` (with their channel systems, agents and technicians) into
    a centre that may be running: every service takes them up without a restart. `people` are
    each new tenant's first operators (username -> roles), each given a new password. Returns the
    new credentials (also merged into the credentials file) and the people's passwords."""
    existing = _existing(settings)
    added = _secrets(centre, existing)
    configuration = configuration_steps(centre, added)
    passwords = {username: secrets.token_urlsafe(12) for username in people or {}}
    hashes = {username: hash_password(password) for username, password in passwords.items()}
    await migrations.upgrade_all(settings.database_urls)

    async def change(session: AsyncSession, services: list[str]) -> None:
        for service in services:
            for step in configuration[service]:
                await step(session)
        for tenant in centre.tenants:
            for username, roles in (people or {}).items():
                await operators.add(
                    session,
                    tenant_id=tenant.id,
                    username=username,
                    roles=roles,
                    password_hash=hashes[username],
                )

    await in_each_database(settings, change)
    merged = {**existing}
    for part, entries in added.items():
        merged[part] = {**existing.get(part, {}), **entries}
    write_credentials(settings.credentials_file, merged)
    tenants = [t.id for t in centre.tenants]
    return {
        **added,
        "people": {
            username: {"password": passwords[username], "roles": roles, "tenants": tenants}
            for username, roles in (people or {}).items()
        },
    }
