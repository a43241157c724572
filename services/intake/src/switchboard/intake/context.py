"""What every way in to intake works with: the runtime, intake's settings and its directory."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.common.runtime import Runtime, Transaction
from switchboard.intake.directory import Directory
from switchboard.intake.offload import Offload
from switchboard.intake.settings import IntakeSettings


@dataclass(frozen=True)
class Intake:
    runtime: Runtime
    settings: IntakeSettings
    directory: Directory
    offload: Offload

    @classmethod
    def of(cls, runtime: Runtime) -> Intake:
        """The runtime's intake context, made once."""
        if "intake" not in runtime.state:
            assert isinstance(runtime.settings, IntakeSettings)
            settings = runtime.settings
            offload = Offload(
                workers=settings.intake_parse_workers,
                timeout=settings.intake_parse_timeout_seconds,
            )
            runtime.state["intake"] = cls(runtime, settings, Directory(runtime.db), offload)
        intake: Intake = runtime.state["intake"]
        return intake

    @classmethod
    def in_tx(cls, tx: Transaction) -> Intake:
        """The intake a consumer's transaction belongs to (made when the app was built)."""
        intake: Intake = tx.state["intake"]
        return intake

    def held_back(self) -> int | None:
        """How many events wait for the broker when so many do that new contacts must wait too
        (the broker has been away long; the outbox must not grow without bound), else None."""
        waiting = self.runtime.relay.unpublished
        return waiting if waiting > self.settings.intake_max_unpublished else None
