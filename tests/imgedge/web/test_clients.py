"""Who the client is: the socket peer, or what a trusted proxy's forwarding headers name."""

from __future__ import annotations

import pytest

from imgedge.env import ConfigError
from imgedge.web.clients import FORWARDED_KEY, TrustedProxies, forwarded_hops, is_local

PROXIES = TrustedProxies.parse(["10.0.0.0/8", "::1", "127.0.0.2"])


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").encode(), value.encode()) for name, value in values.items()]


@pytest.mark.parametrize(
    ("peer", "hops", "client"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # an untrusted peer's header means nothing
        ("10.1.1.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.1.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # the client wrote the left one itself
        ("10.1.1.1", ["198.51.100.1", "10.2.2.2"], "198.51.100.1"),  # two trusted hops
        ("10.1.1.1", ["10.2.2.2", "10.3.3.3"], "10.2.2.2"),  # nothing but proxies: the oldest
        ("10.1.1.1", ["unknown"], "10.1.1.1"),
        ("10.1.1.1", ["[2001:db8::1]:4711"], "2001:db8::1"),
        ("10.1.1.1", ["192.0.2.9:80"], "192.0.2.9"),
        ("127.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),  # loopback is trusted only when listed
    ],
)
def test_the_rightmost_untrusted_hop_is_the_client(peer: str, hops: list[str], client: str) -> None:
    assert PROXIES.client(peer, hops) == client


def test_nobody_is_trusted_by_default() -> None:
    assert TrustedProxies().client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_a_malformed_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="IMGEDGE_TRUSTED_PROXIES"):
        TrustedProxies.parse(["10.0.0.0/8", "cdn.example"])


def test_forwarded_wins_over_x_forwarded_for() -> None:
    hops, present = forwarded_hops(
        headers(x_forwarded_for="1.1.1.1", forwarded='for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"')
    )
    assert hops == ["192.0.2.60", "[2001:db8::17]:4711"] and present
    assert forwarded_hops(headers(x_forwarded_for="1.1.1.1, 2.2.2.2")) == (["1.1.1.1", "2.2.2.2"], True)
    assert forwarded_hops(headers(x_real_ip="1.1.1.1")) == ([], True)
    assert forwarded_hops(headers(accept="*/*")) == ([], False)


@pytest.mark.parametrize(
    ("client", "request_headers", "forwarded_key", "local"),
    [
        (("127.0.0.1", 5), [], None, True),
        (("::1", 5), [], None, True),
        (("127.0.0.1", 5), headers(x_forwarded_for="203.0.113.1"), None, False),  # a local proxy's client
        (("127.0.0.1", 5), [], True, False),
        (("203.0.113.1", 5), [], None, False),
        (None, [], None, False),
    ],
)
def test_local_means_this_machine_and_not_forwarded(
    client: tuple[str, int] | None, request_headers: list[tuple[bytes, bytes]], forwarded_key: bool | None,
    local: bool,
) -> None:  # fmt: skip
    scope: dict[str, object] = {"client": client, "headers": request_headers}
    if forwarded_key is not None:
        scope[FORWARDED_KEY] = forwarded_key
    assert is_local(scope) is local
