"""One TLS context per process for the HTTP clients made for a call or a few (a forwarded request,
a delivery to a platform, a payment provider's answer).

httpx loads the CA bundle into a new TLS context for every client built without one: 18 ms of
CPU, on the event loop, before the request is even sent; with this context a client costs 0.1 ms.
A context may be shared by any number of clients and threads.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def client_tls() -> ssl.SSLContext:
    """The verifying context httpx would have built (the CA bundle, SSL_CERT_FILE/DIR if set)."""
    return httpx.create_ssl_context()
