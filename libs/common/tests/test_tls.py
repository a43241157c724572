"""The shared TLS context verifies as httpx's own does, and is made once."""

from __future__ import annotations

import ssl

from switchboard.common.tls import client_tls


def test_one_verifying_context_per_process() -> None:
    context = client_tls()
    assert context is client_tls()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0, "the CA bundle is loaded"
