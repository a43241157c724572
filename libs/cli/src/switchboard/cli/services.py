"""The services this build of Switchboard runs, and how to build each one's app."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command line imports this module; only a service needs the runtime
    from switchboard.common.subscriptions import Subscriptions

SERVICES: tuple[str, ...] = (
    "intake",
    "routing",
    "recording",
    "desktop",
    "escalation",
    "dispatch",
    "workforce",
    "catalogue",
)


def build_app(name: str) -> Any:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; services: {', '.join(SERVICES)}")
    return importlib.import_module(f"switchboard.{name}.app").build_app()


def subscriptions(name: str) -> Subscriptions:
    """What the service consumes (`.topics`) and may emit (`.emits`), as its handlers declare
    (its app is imported first: a module it wires, such as the desktop's quality pages, may add
    handlers of its own)."""
    importlib.import_module(f"switchboard.{name}.app")
    declared: Subscriptions = importlib.import_module(f"switchboard.{name}.handlers").subscriptions
    return declared


def import_all_tables() -> None:
    """Import every service's tables and the shared ones, so one `create_all` makes the schema."""
    for module in (
        "switchboard.common.compliance.register",
        "switchboard.common.auth",
        "switchboard.common.setaside",
    ):
        importlib.import_module(module)
    for name in SERVICES:
        importlib.import_module(f"switchboard.{name}.app")  # the app imports all its tables
