"""Who may call the API: `Authorization: Bearer <api key>`, or nobody where anonymous use is allowed.

Anonymous use is allowed when the service listens on loopback and no key has been created (the operator's
own machine: `make run` and its playground need no key), or anywhere with IMGEDGE_ALLOW_ANONYMOUS=1, which
the service announces at start-up. The administrator's token (IMGEDGE_ADMIN_TOKEN) is accepted as a caller
too. Work (generation, upload grants) is charged to the key: its rate limit and daily quota answer 429 with
Retry-After; everyone else gets the per-address token buckets instead. What each caller may ask for (the
anonymous caps, a key's own) is generator/security/clients.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from starlette.requests import Request

from imgedge.generator.errors import ApiError
from imgedge.generator.http.auth import bearer_matches
from imgedge.generator.http.rate_limit import RateGate, client_key
from imgedge.generator.keys.records import ApiKey, Caller
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.keys.usage import UsageMeter
from imgedge.generator.metrics import Metrics

log = logging.getLogger("imgedge.generator")

_CHALLENGE = 'Bearer realm="imgedge"'
_INVALID = 'Bearer realm="imgedge", error="invalid_token"'


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refused(message: str, challenge: str = _INVALID) -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": challenge})


class Access:
    def __init__(
        self,
        keys: ApiKeyRepository,
        meter: UsageMeter,
        gate: RateGate,
        metrics: Metrics,
        *,
        admin_token: str,
        listen_host: str,
        proxy_token: str = "",
        allow_anonymous: bool,
        review_anonymous_uploads: bool,
    ) -> None:
        self.keys = keys
        self.meter = meter
        self.gate = gate
        self.metrics = metrics
        self.admin_token = admin_token
        self.proxy_token = proxy_token
        self.loopback = is_loopback(listen_host)
        self.allow_anonymous = allow_anonymous
        self.review_anonymous_uploads = review_anonymous_uploads

    async def caller(self, request: Request) -> Caller:
        """Raises 401 when the request may not call the API as it stands."""
        address = client_key(request)
        header = request.headers.get("authorization")
        if header is not None:
            if bearer_matches(request, self.admin_token):
                return Caller(None, address, admin=True)
            if bearer_matches(request, self.proxy_token):
                return Caller(None, address, proxy=True)
            return Caller(await asyncio.to_thread(self._key_for, header), address)
        if self.allow_anonymous:
            return Caller(None, address)
        if self.loopback and not await asyncio.to_thread(self.keys.any_exist):
            return Caller(None, address, local=True)
        self.metrics.count_auth_refusal("missing")
        raise _refused("an API key is required: send Authorization: Bearer <key>", _CHALLENGE)

    def _key_for(self, header: str) -> ApiKey:
        scheme, _, presented = header.strip().partition(" ")
        key = self.keys.by_key(presented.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            self.metrics.count_auth_refusal("invalid")
            raise _refused("API key not valid")
        if key.revoked:
            self.metrics.count_auth_refusal("revoked")
            raise _refused("API key has been revoked")
        return key

    async def charge(self, request: Request, caller: Caller, kind: str) -> None:
        """Counts work (generate | upload) against the caller; raises 429 with Retry-After past a limit."""
        if caller.key is None:
            self.gate.check(request)
            return
        refusal = await asyncio.to_thread(self.meter.charge, caller.key)
        if refusal is not None:
            self.metrics.count_key_refusal(caller.key.id, caller.key.name, refusal.reason)
            self.metrics.jobs_refused_rate_limited.inc()
            raise ApiError(429, refusal.message, {"Retry-After": str(refusal.retry_after)})
        self.metrics.count_key(caller.key.id, caller.key.name, kind)

    def count_read(self, caller: Caller) -> None:
        if caller.key is not None:
            self.metrics.count_key(caller.key.id, caller.key.name, "read")

    def holds_uploads(self, caller: Caller) -> bool:
        """Whether this caller's uploads wait for review before the proxy serves them."""
        return caller.anonymous and not caller.local and self.review_anonymous_uploads

    def announce(self, host: str, port: int) -> None:
        """Says at start-up who may use the API, loudest when anyone may."""
        if self.allow_anonymous:
            held = "held for review" if self.review_anonymous_uploads else "served at once"
            log.warning(
                "IMGEDGE_ALLOW_ANONYMOUS=1: anyone who can reach %s:%d may generate and upload without an "
                "API key (anonymous uploads are %s)", host, port, held,
            )  # fmt: skip
        elif self.loopback and not self.keys.any_exist():
            log.info("no API key exists and %s is loopback: anonymous use allowed on this machine", host)
        else:
            log.info("API keys required (`imgedge keys create --name NAME`)")
