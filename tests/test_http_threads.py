"""No route of any service hands its request to a worker thread on the way in: FastAPI runs a
dependency or an endpoint that is a plain callable (a class included) in a worker thread, a hop
there and back for every request, where a coroutine runs on the event loop itself."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount

from switchboard.cli.services import SERVICES, build_app


def _dependants(routes: list[BaseRoute]) -> Iterator[tuple[str, Dependant]]:
    """Every route's dependant, through included routers and mounted apps."""
    for route in iter_route_contexts(routes):
        if isinstance(route.original_route, Mount):
            yield from _dependants(route.original_route.routes)
        elif (dependant := getattr(route, "dependant", None)) is not None:
            yield route.path, dependant


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


@pytest.mark.parametrize("service", SERVICES)
def test_every_dependency_and_endpoint_runs_on_the_event_loop(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path))
    dependants = list(_dependants(build_app(service).routes))
    assert dependants
    threaded = {
        f"{path}: {getattr(call, '__qualname__', call)}"
        for path, dependant in dependants
        for call in _calls(dependant)
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    }
    assert not threaded, sorted(threaded)
