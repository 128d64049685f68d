"""Where the generator may send requests on a user's behalf (webhooks): public addresses only, by default.

Checked after DNS resolution, so a public name that resolves to 127.0.0.1 or 169.254.169.254 is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import anyio

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ForbiddenDestination(ValueError):
    pass


def is_public(address: Address) -> bool:
    """False for loopback, private, link-local, CGNAT, multicast, reserved, and IPv6 forms embedding those."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
        if address in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64: the IPv4 address sits in the low bits
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not address.is_multicast


async def check_destination(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenDestination("webhook_url must be an absolute http(s) URL")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ForbiddenDestination(f"webhook host {parts.hostname!r} does not resolve") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not is_public(address):
            raise ForbiddenDestination(f"webhook host {parts.hostname!r} resolves to a non-public address")
