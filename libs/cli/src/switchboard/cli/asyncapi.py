"""Each service's AsyncAPI document, generated from its FastStream broker: the consumer (one per
service, with every topic it reads) and a publisher per topic it emits, with the envelope and
payload schema. `make docs` writes them to `docs/asyncapi/<service>.yaml`; tests/test_asyncapi.py
fails when a committed document no longer matches the code."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from faststream.specification import AsyncAPI

from switchboard.cli.services import SERVICES, build_app

DOCS = Path("docs/asyncapi")


def document(service: str) -> str:
    """The service's AsyncAPI 3.0 document, as YAML (stable: the same code gives the same text)."""
    broker = build_app(service).state.runtime.broker
    spec = AsyncAPI(
        broker,
        title=f"Switchboard {service}",
        version="1",
        description=f"The events the {service} service consumes and emits. Every value is a "
        "JSON envelope (event_id, event_type, tenant_id, aggregate_id, contact_id, "
        "correlation_id, causation_id, occurred_at, payload); the Kafka key is the aggregate's id.",
        schema_version="3.0.0",
    )
    # FastStream orders channels as it meets them (set order varies between runs): sort the keys.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, width=100)


def main(directory: Path = DOCS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        (directory / f"{service}.yaml").write_text(document(service), encoding="utf-8")
        print(f"wrote {directory / service}.yaml")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
