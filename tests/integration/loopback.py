"""HTTP to the centre under test: httpx's one-call functions (`get`, `post`, ...), all sharing one
TLS context (`switchboard.common.tls`).

Each `httpx.get()` builds a client, and each client loads the CA bundle into a new TLS context:
18 ms of CPU, for a request to a loopback server that never uses TLS. The tests poll the centre
thousands of times. Nothing else is shared: each call still has a client, a connection and
cookies of its own, as with httpx's functions.
"""

from __future__ import annotations

from functools import partial

import httpx

from switchboard.common.tls import client_tls

TLS = client_tls()

request = partial(httpx.request, verify=TLS)
stream = partial(httpx.stream, verify=TLS)
get = partial(httpx.get, verify=TLS)
post = partial(httpx.post, verify=TLS)
put = partial(httpx.put, verify=TLS)
patch = partial(httpx.patch, verify=TLS)
delete = partial(httpx.delete, verify=TLS)
