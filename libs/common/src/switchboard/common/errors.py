"""Switchboard's exception tree.

SwitchboardError
├── TransientError        the infrastructure failed; the same work will succeed later
│                         (a consumer nacks and the message is redelivered)
└── PermanentError        this input can never be processed as it is
    └── InvalidInput      bad input from outside: HTTP 4xx with the reason, or a dead letter
        └── Refused       well-formed, but what it asks of a thing its state does not allow:
                          HTTP 409 with the reason, or a dead letter
"""

from __future__ import annotations


class SwitchboardError(Exception):
    pass


class TransientError(SwitchboardError):
    pass


class PermanentError(SwitchboardError):
    pass


class InvalidInput(PermanentError):
    def __init__(self, reason: str, *, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Refused(InvalidInput):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, status=409)
