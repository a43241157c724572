"""Continuing a contact's chain later: a service that acts on a contact after the event that told
it (a timer firing, an agent's command, an offer made when an agent came free) keeps where the
chain stood, and what it emits then carries the same correlation, names its cause, and is traced
as a span of the contact's trace."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from opentelemetry.trace import Tracer

from switchboard.common.envelope import Envelope, P
from switchboard.common.telemetry import continued_span


@dataclass(frozen=True)
class Origin:
    tenant_id: str
    contact_id: str | None
    correlation_id: str
    causation_id: str
    """The event what is emitted now follows from."""
    trace_parent: str | None

    def event(self, payload: P, *, aggregate_id: str | None = None) -> Envelope[P]:
        """`payload` as an event in the chain (about the contact unless `aggregate_id` says)."""
        aggregate = aggregate_id or self.contact_id
        assert aggregate is not None, "an event about no contact names its aggregate"
        return Envelope.resume(
            payload,
            tenant_id=self.tenant_id,
            aggregate_id=aggregate,
            contact_id=self.contact_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )

    def span(
        self, tracer: Tracer, name: str, *, job_id: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """The work as a span of the chain's trace, so what it emits continues the trace."""
        return continued_span(
            tracer,
            self.trace_parent,
            name,
            tenant_id=self.tenant_id,
            contact_id=self.contact_id,
            job_id=job_id,
        )
