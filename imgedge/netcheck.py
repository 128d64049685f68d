"""Which network addresses a service may reach on a user's behalf: public ones, plus networks an operator
lists. Standard library only; used by the generator's webhooks and the proxy's remote sources.

Callers classify the addresses a name resolves to (every one of them) and connect only to a checked address,
so a name that resolves to 127.0.0.1 or 169.254.169.254 is refused, and no second lookup can change the
answer between the check and the connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:  # the IPv4 address sits in the low 32 bits
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """False for loopback, private, link-local, CGNAT, multicast, unspecified, reserved and documentation
    ranges, and for IPv6 forms that embed such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/8`, `::1` …; ValueError names the bad item."""
    networks: list[Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item.strip()!r} is not an IP address or network") from None
    return tuple(networks)


def is_allowed(address: Address, allowed: Sequence[Network] = ()) -> bool:
    """Public, or inside a network the operator allowed explicitly."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 for an allow-list too
    if any(address.version == network.version and address in network for network in allowed):
        return True
    return is_public(address)


def parse_address(text: str) -> Address:
    """An address as getaddrinfo reports it (IPv6 may carry a `%scope`)."""
    return ipaddress.ip_address(text.split("%", 1)[0])
