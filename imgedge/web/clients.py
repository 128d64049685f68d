"""Who the client is: the socket peer, unless that peer is one of IMGEDGE_TRUSTED_PROXIES; then the address
its `Forwarded` (RFC 7239) or `X-Forwarded-For` names — the rightmost hop that is not itself a trusted
proxy, so a client cannot choose its identity by writing the header itself. Rate limits, quotas and logs
all read the result from `scope["client"]`; the socket peer stays in `scope["imgedge.peer"]`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from imgedge.env import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PEER_KEY = "imgedge.peer"
_OTHER_FORWARDING = (b"x-real-ip", b"x-client-ip", b"true-client-ip", b"cf-connecting-ip")
FORWARDED_KEY = "imgedge.forwarded"  # True when the request carried forwarding headers at all


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str]) -> TrustedProxies:
        networks = []
        for item in items:
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigError(f"IMGEDGE_TRUSTED_PROXIES: {item!r} is not an address or network") from None
        return cls(tuple(networks))

    def trusts(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client of a request from `peer` whose forwarding headers name `forwarded_for`, oldest first."""
        if not self.networks or not self.trusts(peer):
            return peer
        client = peer
        for hop in reversed(forwarded_for):
            if _address(hop) is None:
                break  # "unknown", an obfuscated name or garbage: nothing further left can be believed
            client = str(_address(hop))
            if not self.trusts(client):
                break
        return client


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = text.strip().strip('"')
    if host.startswith("["):  # "[2001:db8::1]:4711"
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # "192.0.2.1:4711"
        host = host.partition(":")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def forwarded_hops(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[str], bool]:
    """The addresses a request's forwarding headers name, oldest first, and whether it had any. `Forwarded`
    wins over `X-Forwarded-For` when both are present."""
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    present = False
    for name, value in headers:
        if name == b"forwarded":
            forwarded += _forwarded_for(value.decode("latin-1"))
        elif name == b"x-forwarded-for":
            x_forwarded += [part.strip() for part in value.decode("latin-1").split(",") if part.strip()]
        elif name not in _OTHER_FORWARDING:
            continue
        present = True
    return (forwarded or x_forwarded), present


def _forwarded_for(value: str) -> list[str]:
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, hop = pair.partition("=")
            if key.strip().lower() == "for":
                hops.append(hop.strip().strip('"'))
    return hops


class ClientAddress:
    """Sets `scope["client"]` to the client TrustedProxies names; outermost, before anything reads it."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.resolve(scope)
        await self.app(scope, receive, send)

    def resolve(self, scope: Scope) -> None:
        # With nobody trusted the socket peer stands, and nothing is read: the cache-hit path pays nothing.
        if not self.trusted.networks:
            return
        peer = scope.get("client")
        hops, present = forwarded_hops(scope["headers"])
        scope[PEER_KEY] = peer
        scope[FORWARDED_KEY] = present
        if peer is not None and hops:
            host = self.trusted.client(peer[0], hops)
            if host != peer[0]:
                scope["client"] = (host, 0)


def is_local(scope: Scope) -> bool:
    """The request comes from this machine itself, not forwarded on anybody's behalf."""
    client = scope.get("client")
    address = _address(client[0]) if client else None
    forwarded = scope[FORWARDED_KEY] if FORWARDED_KEY in scope else forwarded_hops(scope["headers"])[1]
    return address is not None and address.is_loopback and not forwarded
