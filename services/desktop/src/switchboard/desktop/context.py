"""What the desktop's handlers, loops and routes work with, made once in `build_app`."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.common.mail import Mailer
from switchboard.common.runtime import Runtime, ServiceContext
from switchboard.desktop.security import SessionKey
from switchboard.desktop.settings import DesktopSettings
from switchboard.desktop.streams import Wakeups


@dataclass(frozen=True)
class Desktop(ServiceContext):
    runtime: Runtime
    settings: DesktopSettings
    wakeups: Wakeups
    mailer: Mailer
    """Replies to customers' emails, sent as the agent's tenant."""
    session_key: SessionKey = field(default_factory=SessionKey)
