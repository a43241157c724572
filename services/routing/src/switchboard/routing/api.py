"""Routing's HTTP surface for operators (bearer token, scoped to its tenant): the queues' live
statistics, the agents' states, and the tenant's routing configuration, read and changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from switchboard.common.auth import operator_tenant
from switchboard.common.centre import (
    AgentConfig,
    CentreConfig,
    QueueConfig,
    RuleConfig,
    TenantConfig,
    check_tenant_references,
)
from switchboard.common.errors import InvalidInput
from switchboard.common.runtime import Runtime
from switchboard.routing import store
from switchboard.routing.distributor import Distributor, now

router = APIRouter(prefix="/v1", tags=["routing"])
Tenant = Annotated[str, Depends(operator_tenant)]


class TenantRoutingConfig(BaseModel):
    queues: list[QueueConfig]
    rules: list[RuleConfig] = []
    overflow_partners: list[str] = []


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/queues")
async def queues(request: Request, tenant: Tenant) -> list[dict[str, Any]]:
    """Each of the tenant's queues now: waiting, longest wait, agents, service level over the last
    15 and 30 minutes, average speed of answer, abandonment rate."""
    acd = Distributor.of(_runtime(request))
    return [stats.model_dump() for owner, stats in acd.engine.figures(now()) if owner == tenant]


@router.get("/agents")
async def agents(request: Request, tenant: Tenant) -> list[dict[str, Any]]:
    acd = Distributor.of(_runtime(request))
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
    async with _runtime(request).db.reader() as session:
        row = await store.tenant(session, tenant)
    if row is None:
        raise HTTPException(404, f"tenant {tenant!r} has no routing configuration")
    return row.config


@router.put("/routing")
async def replace_routing(
    request: Request, tenant: Tenant, config: TenantRoutingConfig
) -> dict[str, Any]:
    """Replace the tenant's queues, rules and agreements; refused (422) if it names a queue that
    does not exist or overflows into a tenant that has not agreed."""
    runtime = _runtime(request)
    acd = Distributor.of(runtime)
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
        await store.save_tenant(session, proposed)
    acd.configure_tenant(tenant, proposed.timezone, config.model_dump(mode="json"))
    acd.wake()
    return config.model_dump(mode="json")


@router.put("/agents/{agent_id}")
async def replace_agent(
    request: Request, tenant: Tenant, agent_id: str, config: AgentConfig
) -> dict[str, Any]:
    """Create or change an agent of the operator's tenant: skills, capacity, tenants, groups."""
    if config.id != agent_id:
        raise InvalidInput("the body's id must be the agent id in the path", status=422)
    if tenant not in config.tenants:
        raise InvalidInput(f"an agent changed here must serve tenant {tenant!r}", status=403)
    runtime = _runtime(request)
    async with runtime.db.session() as session:
        existing = await session.get(store.RoutingAgent, agent_id)
        if existing is not None and tenant not in existing.config.get("tenants", []):
            raise InvalidInput(f"agent {agent_id!r} belongs to another tenant", status=403)
        await store.save_agent(session, config)
    acd = Distributor.of(runtime)
    acd.configure_agent(agent_id, config.model_dump(mode="json"))
    acd.wake()
    return config.model_dump(mode="json")


def _tenant_of(row: store.RoutingTenant) -> TenantConfig:
    return TenantConfig(id=row.tenant_id, name=row.tenant_id, timezone=row.timezone, **row.config)
