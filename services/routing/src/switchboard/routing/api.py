"""Routing's HTTP surface for operators (bearer token, scoped to its tenant): the queues' live
statistics, the agents' states, and the tenant's routing configuration, read by any operator and
changed by a team leader or an administrator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from switchboard.common.auth import OPERATORS, operator_tenant, policy
from switchboard.common.centre import (
    AgentConfig,
    CentreConfig,
    QueueConfig,
    RuleConfig,
    TenantConfig,
    check_tenant_references,
)
from switchboard.common.errors import InvalidInput
from switchboard.common.runtime import runtime_of
from switchboard.routing import store
from switchboard.routing.context import Routing
from switchboard.routing.domain import lending_refused
from switchboard.routing.restore import now

router = APIRouter(
    prefix="/v1",
    tags=["routing"],
    dependencies=[policy(read=OPERATORS, write=("team_leader",))],
)
Tenant = Annotated[str, Depends(operator_tenant)]


class TenantRoutingConfig(BaseModel):
    queues: list[QueueConfig]
    rules: list[RuleConfig] = []
    overflow_partners: list[str] = []


@router.get("/queues")
async def queues(request: Request, tenant: Tenant) -> list[dict[str, Any]]:
    """Each of the tenant's queues now: waiting, longest wait, agents, service level over the last
    15 and 30 minutes, average speed of answer, abandonment rate."""
    acd = Routing.of(request).acd
    return [stats.model_dump() for owner, stats in acd.engine.figures(now()) if owner == tenant]


@router.get("/agents")
async def agents(request: Request, tenant: Tenant) -> list[dict[str, Any]]:
    acd = Routing.of(request).acd
    return [
        {
            "agent_id": a.agent_id,
            "state": a.state,
            "break_reason": a.break_reason,
            "contacts": sorted(a.active),
            "offer_id": a.offer_id,
            "missed_in_row": a.missed_in_row,
        }
        for a in sorted(acd.engine.agents.values(), key=lambda a: a.agent_id)
        if tenant in a.tenants
    ]


@router.get("/routing")
async def routing_config(request: Request, tenant: Tenant) -> dict[str, Any]:
    async with runtime_of(request).db.reader() as session:
        row = await store.tenant(session, tenant_id=tenant)
    if row is None:
        raise HTTPException(404, f"tenant {tenant!r} has no routing configuration")
    return row.config


@router.put("/routing")
async def replace_routing(
    request: Request, tenant: Tenant, config: TenantRoutingConfig
) -> dict[str, Any]:
    """Replace the tenant's queues, rules and agreements; refused (422) if it names a queue that
    does not exist or overflows into a tenant that has not agreed."""
    runtime = runtime_of(request)
    acd = Routing.of(runtime).acd
    async with runtime.db.session() as session:
        rows = {row.tenant_id: row for row in await store.tenants(session)}
        if tenant not in rows:
            raise HTTPException(404, f"tenant {tenant!r} has no routing configuration")
        proposed = TenantConfig(
            id=tenant, name=tenant, timezone=rows[tenant].timezone, **config.model_dump()
        )
        centre = CentreConfig.model_construct(
            tenants=[
                proposed if t == tenant else _tenant_of(row) for t, row in sorted(rows.items())
            ]
        )
        try:
            check_tenant_references(proposed, centre)
        except ValueError as error:
            raise InvalidInput(str(error), status=422) from None
        await store.save_tenant(session, tenant=proposed)
    acd.configure_tenant(tenant, proposed.timezone, config.model_dump(mode="json"))
    acd.wake()
    return config.model_dump(mode="json")


@router.put("/agents/{agent_id}")
async def replace_agent(
    request: Request, tenant: Tenant, agent_id: str, config: AgentConfig
) -> dict[str, Any]:
    """Create or change an agent of the operator's tenant: skills, capacity, tenants, groups.
    Another tenant's agent is 404; a tenant added to the agent's needs the overflow agreement."""
    if config.id != agent_id:
        raise InvalidInput("the body's id must be the agent id in the path", status=422)
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        existing = await session.get(store.RoutingAgent, agent_id)
        serves = existing.config.get("tenants", []) if existing is not None else [tenant]
        if tenant not in serves:
            raise HTTPException(404, f"no agent {agent_id!r}")
        if serves[0] != tenant:
            reason = f"agent {agent_id!r} is {serves[0]!r}'s: only its operators change it"
            raise InvalidInput(reason, status=403)
        configs = {row.tenant_id: row.config for row in await store.tenants(session)}
        added = [t for t in config.tenants if t == tenant or t not in serves]
        refused = lending_refused(tenant, added, configs)
        if refused is not None:
            raise InvalidInput(refused, status=403)
        saved = config.model_copy(update={"tenants": _home_first(tenant, config.tenants)})
        await store.save_agent(session, agent=saved)
    acd = Routing.of(runtime).acd
    acd.configure_agent(agent_id, saved.model_dump(mode="json"))
    acd.wake()
    return saved.model_dump(mode="json")


def _home_first(home: str, tenants: list[str]) -> list[str]:
    """An agent's first tenant is the one whose operators change it."""
    return [home, *(t for t in tenants if t != home)]


def _tenant_of(row: store.RoutingTenant) -> TenantConfig:
    return TenantConfig(id=row.tenant_id, name=row.tenant_id, timezone=row.timezone, **row.config)
