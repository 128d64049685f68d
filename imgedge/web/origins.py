"""State-changing requests (anything but GET, HEAD, OPTIONS) whose `Origin` is another site's are refused
(403) unless IMGEDGE_CORS_ORIGINS lists it: a page elsewhere cannot make a visitor's browser start jobs or
uploads. Same-origin means the origin the request was sent to (its `Host`), or the configured public base."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from imgedge.env import ConfigError
from imgedge.errors import PublicError
from imgedge.web.bodies import ErrorResponder

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ForeignOrigin(PublicError):
    status = 403
    default_message = "requests from other origins are not allowed here"


def origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a serialised origin such as `https://app.example:8443`, else None."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path or parts.query:
        return None
    return parts.scheme, parts.hostname.lower(), port


@dataclass(frozen=True, slots=True)
class AllowedOrigins:
    origins: frozenset[tuple[str, str, int]] = frozenset()
    any_origin: bool = False

    @classmethod
    def parse(cls, items: Iterable[str]) -> AllowedOrigins:
        keys = set()
        any_origin = False
        for item in items:
            if item == "*":
                any_origin = True
                continue
            key = origin_key(item)
            if key is None:
                raise ConfigError(
                    f"IMGEDGE_CORS_ORIGINS: {item!r} is not an origin such as https://app.example"
                )
            keys.add(key)
        return cls(frozenset(keys), any_origin)

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin_key(origin) in self.origins

    @property
    def listed(self) -> list[str]:
        return ["*"] if self.any_origin else [_serialise(key) for key in sorted(self.origins)]


def _serialise(key: tuple[str, str, int]) -> str:
    scheme, host, port = key
    return f"{scheme}://{host}" if _DEFAULT_PORTS[scheme] == port else f"{scheme}://{host}:{port}"


def same_origin(origin: str, scope: Scope, public_base: str) -> bool:
    key = origin_key(origin)
    if key is None:
        return False
    if public_base and origin_key(_base_origin(public_base)) == key:
        return True
    host = host_header(scope)
    if host is None:
        return False
    name, port = host
    # The scheme is not compared: behind a TLS-terminating proxy the server sees http for an https page.
    return name == key[1] and (port == key[2] if port is not None else key[2] == _DEFAULT_PORTS[key[0]])


def host_header(scope: Scope) -> tuple[str, int | None] | None:
    """(host, port) of the request's `Host`, lower-cased, brackets of an IPv6 literal removed."""
    raw = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"host"), "")
    try:
        parts = urlsplit("//" + raw)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.query or parts.username is not None:
        return None
    return parts.hostname.lower(), port


def _base_origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


class OriginCheck:
    def __init__(
        self, app: ASGIApp, *, allowed: AllowedOrigins, public_base: str, respond: ErrorResponder
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.public_base = public_base
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            origin = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"origin"), None)
            if origin is not None and not self._permitted(origin, scope):
                await self.respond(scope, ForeignOrigin())(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _permitted(self, origin: str, scope: Scope) -> bool:
        return same_origin(origin, scope, self.public_base) or self.allowed.allows(origin)
