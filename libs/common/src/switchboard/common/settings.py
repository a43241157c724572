"""Settings shared by every process, read from `SWITCHBOARD_*` environment variables.

`SWITCHBOARD_KAFKA` unset means the embedded broker on 127.0.0.1:`broker_port`;
`SWITCHBOARD_DATABASE_URL` unset means SQLite at `<var_dir>/switchboard.db`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORT_FIELDS = {
    "desktop": "desktop_port",
    "intake": "intake_port",
    "routing": "routing_port",
    "escalation": "escalation_port",
    "recording": "recording_port",
    "dispatch": "dispatch_port",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    kafka: str | None = None
    database_url: str | None = None
    otlp_endpoint: str | None = None
    var_dir: Path = Path("var")
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    centre_config: Path | None = None

    desktop_port: int = 8080
    intake_port: int = 8081
    routing_port: int = 8082
    escalation_port: int = 8083
    recording_port: int = 8084
    dispatch_port: int = 8085
    smtp_port: int = 2525
    broker_port: int = 9092

    consumer_max_attempts: int = 3
    """Attempts at a message whose failure is not the infrastructure's before it is dead-lettered."""

    @property
    def embedded_broker(self) -> bool:
        return not self.kafka

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka or f"127.0.0.1:{self.broker_port}"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the async driver SQLAlchemy needs."""
        url = self.database_url or f"sqlite:///{(self.var_dir / 'switchboard.db').resolve()}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    def port_of(self, service: str) -> int:
        return int(getattr(self, SERVICE_PORT_FIELDS[service]))

    def base_url(self, service: str) -> str:
        return f"http://{self.host}:{self.port_of(service)}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def trace_dir(self) -> Path:
        return self.var_dir / "traces"

    @property
    def credentials_file(self) -> Path:
        return self.var_dir / "dev-credentials.json"
