"""Settings shared by every process, read from `SWITCHBOARD_*` environment variables.

`SWITCHBOARD_KAFKA` unset means the embedded broker on 127.0.0.1:`broker_port`;
`SWITCHBOARD_DATABASE_URL` unset means SQLite, a file per service: `<var_dir>/<service>.db`.
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
    "workforce": "workforce_port",
    "catalogue": "catalogue_port",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_", extra="ignore", use_attribute_docstrings=True
    )

    kafka: str | None = None
    """Kafka bootstrap servers (host:port,...); unset: the embedded broker on 127.0.0.1:`broker_port`."""
    kafka_is_embedded: bool = False
    """The Kafka `kafka` names is the embedded broker all the same, started apart (the chaos suite
    reaches it through a fault proxy): topics and consumers get the embedded broker's settings."""
    database_url: str | None = None
    """postgresql://user:password@host:5432/db, shared by every service; unset: SQLite, a file of
    its own per service (`<var_dir>/<service>.db`)."""
    otlp_endpoint: str | None = None
    """An OTLP/HTTP collector (e.g. http://jaeger:4318); unset: spans go to `<var_dir>/traces/`."""
    tracing: bool = True
    """False: no spans are recorded or exported (to measure what tracing costs)."""
    var_dir: Path = Path("var")
    """Where local state lives: the SQLite database, logs, traces, mail sink, field outbox."""
    host: str = "127.0.0.1"
    """The address every service listens on (0.0.0.0 in a container)."""
    log_level: str = "INFO"
    """DEBUG, INFO, WARNING or ERROR."""
    centre_config: Path | None = None
    """The centre YAML (tenants, queues, agents, technicians); unset: the demo centre."""

    desktop_port: int = 8080
    """The agent desktop's HTTP port."""
    intake_port: int = 8081
    """Intake's HTTP port (channel systems post here)."""
    routing_port: int = 8082
    """Routing's HTTP port."""
    escalation_port: int = 8083
    """Escalation's HTTP port."""
    recording_port: int = 8084
    """Recording's HTTP port."""
    dispatch_port: int = 8085
    """Dispatch's HTTP port."""
    workforce_port: int = 8086
    """Workforce management's HTTP port."""
    catalogue_port: int = 8087
    """The catalogue's HTTP port (products, knowledge, orders, retention offers)."""
    smtp_port: int = 2525
    """Intake's SMTP listener."""
    broker_port: int = 9092
    """The embedded broker's port (when `kafka` is unset)."""

    operator_token_hours: float = 8.0
    """How long an operator's signed-in token lasts (a shift); revoking the person ends it sooner."""
    oidc_issuer: str | None = None
    """The `iss` of the centre's own identity provider, when operators sign in there (OIDC)."""
    oidc_jwks: str | None = None
    """The provider's signing keys: its JWKS as JSON, or the path of a file holding it."""
    oidc_audience: str | None = None
    """The `aud` the provider's tokens must carry for this centre (unset: not checked)."""
    oidc_tenant_claim: str = "switchboard_tenant"
    """The claim naming the person's tenant."""
    oidc_roles_claim: str = "switchboard_roles"
    """The claim listing the person's roles (a list, or a space-separated string)."""
    oidc_name_claim: str = "preferred_username"
    """The claim naming the person in audit trails (else `sub`)."""

    consumer_max_attempts: int = 3
    """Attempts at a message whose failure is not the infrastructure's before it is dead-lettered."""

    @property
    def embedded_broker(self) -> bool:
        """The centre starts the embedded broker itself."""
        return not self.kafka

    @property
    def on_embedded_broker(self) -> bool:
        """The broker is the embedded one, whoever started it."""
        return self.embedded_broker or self.kafka_is_embedded

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka or f"127.0.0.1:{self.broker_port}"

    def sqlalchemy_url_for(self, service: str) -> str:
        """The database `service` keeps its tables in, with the async driver SQLAlchemy needs.

        One PostgreSQL serves every service (each owns its own tables in it). SQLite gets a file
        per service: SQLite has one writer per file, and six processes taking turns at one file
        spent most of their time waiting for each other (measured: 15 contacts/s end to end on one
        file). Every file holds the whole schema; each service fills its own tables, and the
        shared ones (operator tokens, the Do Not Call register) are written where they are read."""
        default = (self.var_dir / f"{service}.db").resolve()
        return _async_driver(self.database_url or f"sqlite:///{default}")

    @property
    def databases(self) -> dict[str, str]:
        """Each service's database URL; the same one for all when `database_url` is set."""
        return {service: self.sqlalchemy_url_for(service) for service in SERVICE_PORT_FIELDS}

    @property
    def database_urls(self) -> list[str]:
        """Every database of the centre, once each."""
        return list(dict.fromkeys(self.databases.values()))

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


def _async_driver(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url
