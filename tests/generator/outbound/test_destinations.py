from __future__ import annotations

import ipaddress

import pytest

from imgedge.generator.outbound.destinations import ForbiddenDestination, check_destination, is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
        "64:ff9b::a00:1", "ff02::1",
    ],
)  # fmt: skip
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


async def test_names_are_checked_after_resolution() -> None:
    with pytest.raises(ForbiddenDestination, match="non-public"):
        await check_destination("http://localhost:9/hook", allow_private=False)
    with pytest.raises(ForbiddenDestination, match="non-public"):
        await check_destination("http://[::ffff:127.0.0.1]/hook", allow_private=False)
    with pytest.raises(ForbiddenDestination, match="http"):
        await check_destination("ftp://example.com/x", allow_private=False)
    await check_destination("http://127.0.0.1:9/hook", allow_private=True)
