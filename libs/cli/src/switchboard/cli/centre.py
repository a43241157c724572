"""A whole centre on one machine: the embedded broker (unless SWITCHBOARD_KAFKA names one), the
schema and seed, and every service as a supervised process. `switchboard up` runs one; the
integration tests run theirs on free ports with the same code."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx

from switchboard.cli.seed import seed
from switchboard.cli.services import SERVICES
from switchboard.cli.supervisor import Supervisor
from switchboard.common.embedded_broker import EmbeddedBroker
from switchboard.common.settings import Settings


class Centre:
    def __init__(
        self,
        settings: Settings,
        services: tuple[str, ...] = SERVICES,
        *,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.services = services
        self.extra_env = extra_env or {}
        self.broker: EmbeddedBroker | None = None
        self.supervisor: Supervisor | None = None
        self.credentials: dict[str, Any] = {}
        self._http: httpx.Client | None = None
        """One client for every health check: a client of its own per request (as `httpx.get`
        makes) loads the CA bundle into a new TLS context, 18 ms of CPU each, and waiting for
        eight services four times a second took most of a core from the services starting."""

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[f"SWITCHBOARD_{name.upper()}"] = str(value)
        env["SWITCHBOARD_VAR_DIR"] = str(self.settings.var_dir.resolve())
        return {**env, **self.extra_env}

    def start(self) -> None:
        for folder in (self.settings.var_dir, self.settings.log_dir, self.settings.trace_dir):
            folder.mkdir(parents=True, exist_ok=True)
        if self.settings.embedded_broker:
            self.broker = EmbeddedBroker(
                port=self.settings.broker_port, log_file=self.settings.log_dir / "broker.log"
            )
            self.broker.start()
        self.credentials = asyncio.run(seed(self.settings))
        self.supervisor = Supervisor(
            list(self.services), env=self.child_env(), log_dir=self.settings.log_dir
        )
        self.supervisor.start_all()

    def health(self) -> dict[str, int | str]:
        """Each service's /healthz status code, or why it did not answer. A service is healthy only
        if it answers as itself: at an address another service (or another centre) holds, the
        other one would answer 200 and the centre would look whole without it."""
        if self._http is None:
            self._http = httpx.Client(timeout=2)
        status: dict[str, int | str] = {}
        for name in self.services:
            try:
                answer = self._http.get(self.settings.base_url(name) + "/healthz")
            except httpx.HTTPError as error:
                status[name] = type(error).__name__
                continue
            status[name] = answer.status_code
            answered_as = _service_named(answer)
            if answered_as != name:
                status[name] = f"{answered_as or 'something else'} answers at its address"
        return status

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = self.health()
            if all(code == 200 for code in status.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"services not healthy after {timeout:.0f}s: {status}")
            if self.supervisor is not None:
                self.supervisor.check()
            time.sleep(0.25)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.supervisor is not None:
            self.supervisor.stop_all()
            self.supervisor = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


def _service_named(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body.get("service") if isinstance(body, dict) else None
