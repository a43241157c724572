"""What every way in to intake works with (HTTP, SMTP, chat windows, consumers), made once in
`build_app`."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.common.runtime import Runtime, ServiceContext
from switchboard.intake.chat_windows import ChatHub
from switchboard.intake.directory import Directory
from switchboard.intake.offload import Offload
from switchboard.intake.settings import IntakeSettings


@dataclass(frozen=True)
class Intake(ServiceContext):
    runtime: Runtime
    settings: IntakeSettings
    directory: Directory
    offload: Offload
    chats: ChatHub = field(default_factory=ChatHub)

    @classmethod
    def build(cls, runtime: Runtime, settings: IntakeSettings) -> Intake:
        offload = Offload(
            workers=settings.intake_parse_workers, timeout=settings.intake_parse_timeout_seconds
        )
        return cls(runtime, settings, Directory(runtime.db), offload)

    def held_back(self) -> int | None:
        """How many events wait for the broker when so many do that new contacts must wait too
        (the broker has been away long; the outbox must not grow without bound), else None."""
        waiting = self.runtime.relay.unpublished
        return waiting if waiting > self.settings.intake_max_unpublished else None
