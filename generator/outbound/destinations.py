"""Where the generator may send requests on a user's behalf (webhooks): public addresses only, by default.

Checked after DNS resolution (imgedge.netcheck), so a public name that resolves to 127.0.0.1 or
169.254.169.254 is refused; and the connection then goes to the address that was checked (`pinned`), with
the name kept for the Host header and TLS (SNI and the certificate check), so a second lookup cannot swap in
another address.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from imgedge.netcheck import Address, is_public, parse_address


class ForbiddenDestination(ValueError):
    pass


class Unresolvable(ForbiddenDestination):
    """The name does not resolve (now): worth another try later, unlike a forbidden address."""


@dataclass(frozen=True, slots=True)
class Destination:
    url: str
    host: str
    address: Address  # the checked address the connection goes to

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """The URL with the checked address in place of the name, the Host header naming the original
        host, and httpx's `sni_hostname` extension so TLS still presents and verifies the name."""
        url = httpx.URL(self.url)
        pinned = url.copy_with(host=str(self.address))
        host_header = url.netloc.decode("ascii")
        return pinned, {"Host": host_header}, {"sni_hostname": self.host}


async def resolve_destination(url: str, *, allow_private: bool) -> Destination:
    """Resolves the URL's host once and checks every address it has; the first one is where to connect."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenDestination("webhook_url must be an absolute http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        raise Unresolvable(f"webhook host {parts.hostname!r} does not resolve") from None
    addresses = [parse_address(sockaddr[0]) for *_, sockaddr in infos]
    if not addresses:
        raise Unresolvable(f"webhook host {parts.hostname!r} does not resolve")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise ForbiddenDestination(f"webhook host {parts.hostname!r} resolves to a non-public address")
    return Destination(url, parts.hostname, addresses[0])


async def check_destination(url: str, *, allow_private: bool) -> None:
    await resolve_destination(url, allow_private=allow_private)
