"""IMGEDGE_REMOTE_SOURCES prefixes, compared part by part; and how a dialect's image names a source."""

from __future__ import annotations

import pytest

from imgedge.proxy.sources.allowlist import AllowedPrefix, admitted, parse_prefixes
from imgedge.proxy.sources.base import ASSET, REMOTE, S3, SourceRef
from imgedge.url.errors import UrlError

PREFIXES = parse_prefixes(
    (
        "https://images.example.com/photos/",
        "http://127.0.0.1:8099",
        "https://*.cdn.test/",
        "s3://bucket/prefix/",
    )
)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://images.example.com/photos/a.png", True),
        ("https://IMAGES.example.com/photos/a.png", True),
        ("https://images.example.com:443/photos/a.png", True),
        ("https://images.example.com/photos-private/a.png", False),
        ("https://images.example.com/a.png", False),
        ("http://images.example.com/photos/a.png", False),
        ("https://images.example.com.evil.test/photos/a.png", False),
        ("https://images.example.com@evil.test/photos/a.png", False),
        ("https://images.example.com:8443/photos/a.png", False),
        ("http://127.0.0.1:8099/anything", True),
        ("http://127.0.0.1/anything", False),
        ("https://a.cdn.test/x.png", True),
        ("https://cdn.test.evil/x.png", False),
        ("s3://bucket/prefix/k.png", True),
        ("s3://bucket/other/k.png", False),
        ("s3://bucket2/prefix/k.png", False),
    ],
)
def test_prefixes_admit_by_scheme_host_port_and_path(url: str, ok: bool) -> None:
    assert admitted(url, PREFIXES) is ok


@pytest.mark.parametrize("prefix", ["ftp://x/", "https://user@x/", "https://x/?q=1", "s3:///prefix/", "//x/"])
def test_bad_prefixes_are_refused_at_start_up(prefix: str) -> None:
    with pytest.raises(ValueError):
        AllowedPrefix.parse(prefix)


def test_images_name_assets_or_urls() -> None:
    assert SourceRef.parse("3f2a-b_c").kind == ASSET
    remote = SourceRef.parse("HTTPS://Img.Test/a b/é.png?x=1")
    assert (remote.kind, remote.location) == (REMOTE, "https://img.test/a%20b/%C3%A9.png?x=1")
    assert SourceRef.parse("s3://bucket/key.png").kind == S3
    assert remote.cache_id.startswith("remote.") and "." not in SourceRef.parse("cat").cache_id
    for bad in (
        "ftp://x/y",
        "http://u:p@x/y",
        "http:///y",
        "http://x/a/../b",
        "s3://bucket/",
        "a.png",
        "x" * 3000,
    ):
        with pytest.raises(UrlError):
            SourceRef.parse(bad)
