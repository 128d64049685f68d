"""Who may read `/metrics`: a client on this machine (loopback, not forwarded on anyone's behalf), or anyone
presenting IMGEDGE_METRICS_TOKEN as a bearer token. Everyone else gets 403: the numbers describe traffic
and capacity, which is an attacker's map."""

from __future__ import annotations

import hmac

from starlette.types import Scope

from imgedge.errors import PublicError
from imgedge.web.clients import is_local


class MetricsForbidden(PublicError):
    status = 403
    default_message = "metrics are served to this machine, or with IMGEDGE_METRICS_TOKEN"


def bearer(scope: Scope) -> str:
    header = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def check_metrics_access(scope: Scope, token: str) -> None:
    if is_local(scope):
        return
    supplied = bearer(scope)
    if token and supplied and hmac.compare_digest(supplied.encode(), token.encode()):
        return
    raise MetricsForbidden(headers={"Cache-Control": "no-store"})
