"""The tenants a test adds to a running centre, each a copy of the demo tenant with names and
numbers of its own, and the identity provider the shared centre trusts to sign their people in."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import yaml
from joserfc.jwk import ECKey

OIDC_ISSUER = "https://id.example.test"
OIDC_KEY = ECKey.generate_key("P-256", parameters={"kid": "idp-1", "alg": "ES256"})
"""The centre's own identity provider: the shared centre accepts the people it signs in."""
OIDC = {
    "SWITCHBOARD_OIDC_ISSUER": OIDC_ISSUER,
    "SWITCHBOARD_OIDC_JWKS": json.dumps({"keys": [OIDC_KEY.as_dict(private=False)]}),
    "SWITCHBOARD_OIDC_AUDIENCE": "switchboard-centre",
}
DEMO_CENTRE = Path(__file__).parents[2] / "libs/cli/src/switchboard/cli/demo-centre.yaml"
SERIALS = itertools.count()
"""Each tenant a test adds has numbers of its own."""


def tenant_config(tenant_id: str, serial: int, demo: Path = DEMO_CENTRE) -> dict[str, Any]:
    """The demo tenant made again as `tenant_id`: every name, address, number, channel system,
    agent and technician its own (agent `alice` is `alice-<tenant_id>`), so it shares a running
    centre with others without meeting them. `serial` (0-39) keeps its numbers apart."""
    text = demo.read_text(encoding="utf-8").replace("acme", tenant_id)
    text = text.replace("Acme", tenant_id.title())
    for prefix in ("+6125550", "+6145550"):
        text = text.replace(prefix, f"{prefix[:6]}{60 + serial:02d}")
    config = yaml.safe_load(text)
    for agent in config["agents"]:  # extensions stay: each tenant has a telephony platform
        agent["id"] = f"{agent['id']}-{tenant_id}"
    for technician in config["technicians"]:
        technician["id"] = f"{technician['id']}-{tenant_id}"
    return dict(config)
