"""What routing's handlers, loop and routes work with, made once its ACD is loaded from the
record (`app.prepare`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.common.runtime import Runtime, ServiceContext
from switchboard.routing.settings import RoutingSettings

if TYPE_CHECKING:  # the distributor works on this context: it imports this module
    from switchboard.routing.distributor import Distributor


@dataclass(frozen=True)
class Routing(ServiceContext):
    runtime: Runtime
    settings: RoutingSettings
    acd: Distributor
    """The in-memory ACD, kept in step with the record by each committed transaction."""
