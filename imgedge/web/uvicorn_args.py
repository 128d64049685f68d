"""How every imgedge service runs under uvicorn (`imgedge serve`, the deploy guide, the tests' servers).

Only names here, so `imgedge serve`'s parser can be built by an install without the server extra.
"""

from __future__ import annotations

PROTOCOL = "imgedge.web.protocol:LimitedHttpToolsProtocol"
UVICORN_ARGS = ("--http", PROTOCOL, "--no-proxy-headers")
# The proxy workers' event loop under `imgedge serve`: uvloop, taking turns at new connections.
BALANCED_LOOP = "imgedge.web.balanced_accept:new_event_loop"
