"""Where the generator may send requests on a user's behalf (webhooks): public addresses only, by default.

Checked after DNS resolution (imgedge.netcheck), so a public name that resolves to 127.0.0.1 or
169.254.169.254 is refused.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import anyio

from imgedge.netcheck import is_public, parse_address


class ForbiddenDestination(ValueError):
    pass


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
        address = parse_address(sockaddr[0])
        if not is_public(address):
            raise ForbiddenDestination(f"webhook host {parts.hostname!r} resolves to a non-public address")
