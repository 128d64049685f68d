"""Which origins may send state-changing requests, and what counts as the service's own."""

from __future__ import annotations

import pytest

from imgedge.env import ConfigError
from imgedge.web.origins import AllowedOrigins, origin_key, same_origin


def scope(host: str) -> dict[str, object]:
    return {"headers": [(b"host", host.encode())]}


@pytest.mark.parametrize(
    ("origin", "key"),
    [
        ("https://app.example", ("https", "app.example", 443)),
        ("http://APP.example:8080", ("http", "app.example", 8080)),
        ("http://[::1]:8081", ("http", "::1", 8081)),
        ("null", None),
        ("https://app.example/path", None),
        ("ftp://app.example", None),
        ("https://app.example:99999", None),
    ],
)
def test_origin_keys(origin: str, key: tuple[str, str, int] | None) -> None:
    assert origin_key(origin) == key


@pytest.mark.parametrize(
    ("origin", "host", "public", "same"),
    [
        ("http://127.0.0.1:8081", "127.0.0.1:8081", "", True),
        ("https://img.example", "img.example", "", True),  # TLS ends at a proxy: the scheme is not compared
        ("http://img.example", "img.example:443", "", False),
        ("https://evil.example", "img.example", "", False),
        ("https://img.example", "internal:8081", "https://img.example/base", True),
        ("null", "img.example", "", False),
        ("https://img.example", "", "", False),
        ("https://img.example", "img.example@evil", "", False),
    ],
)
def test_same_origin(origin: str, host: str, public: str, same: bool) -> None:
    assert same_origin(origin, scope(host), public) is same


def test_listed_origins() -> None:
    allowed = AllowedOrigins.parse(["https://app.example", "http://localhost:3000"])
    assert allowed.allows("https://app.example") and allowed.allows("https://APP.example:443")
    assert not allowed.allows("https://app.example.evil") and not allowed.allows("null")
    assert allowed.listed == ["http://localhost:3000", "https://app.example"]
    assert AllowedOrigins.parse(["*"]).allows("https://anything.example")
    with pytest.raises(ConfigError, match="IMGEDGE_CORS_ORIGINS"):
        AllowedOrigins.parse(["app.example"])
