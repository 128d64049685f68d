"""The shared address classifier: what a service may reach on a user's behalf."""

from __future__ import annotations

import ipaddress

import pytest

from imgedge.netcheck import is_allowed, is_public, parse_address, parse_networks


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "::", "::1", "fe80::1", "fc00::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::a00:1", "ff02::1",
    ],
)  # fmt: skip
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_explicitly_allowed_networks() -> None:
    allowed = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert is_allowed(parse_address("127.0.0.1"), allowed)
    assert is_allowed(parse_address("::ffff:127.0.0.1"), allowed)  # the mapped spelling too
    assert is_allowed(parse_address("10.9.9.9"), allowed)
    assert not is_allowed(parse_address("127.0.0.2"), allowed)
    assert not is_allowed(parse_address("::1"), allowed)
    assert is_allowed(parse_address("fe80::1%eth0"), parse_networks(["fe80::/10"]))
    with pytest.raises(ValueError, match="not an IP"):
        parse_networks(["localhost"])
