"""Dispatch's API for dispatchers and for the gateways of the media technicians answer through
(operator token, tenant-scoped): jobs and their moves (`jobs_api`), technicians, communications to
field staff and the day's plan (`field_api`)."""

from __future__ import annotations

from fastapi import APIRouter

from switchboard.common.auth import policy
from switchboard.dispatch import field_api, jobs_api

router = APIRouter(
    prefix="/v1",
    tags=["dispatch"],
    dependencies=[policy(read=("dispatcher", "team_leader"), write=("dispatcher",))],
)
router.include_router(jobs_api.router)
router.include_router(field_api.router)
