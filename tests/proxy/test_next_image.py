"""Next.js's image API (`/_next/image?url=…&w=…&q=…`): Next's parameters, messages and headers, served
unsigned only within the configured sizes and qualities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import pyvips

from imgedge.cache.config import CacheConfig
from imgedge.env import ConfigError
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects import BOUNDED, UNSIGNED, build_dialects
from imgedge.proxy.dialects.base import Credential
from imgedge.proxy.dialects.next_image import NextImageDialect
from imgedge.proxy.dialects.next_image_config import NextImageConfig
from imgedge.proxy.errors import Forbidden, NotFound
from imgedge.proxy.security import Keyring, check_source, verify_credential
from imgedge.proxy.sources import SourceRef
from imgedge.proxy.sources.allowlist import parse_prefixes
from imgedge.proxy.sources.base import REMOTE
from imgedge.url.build import build_path
from imgedge.url.errors import UrlError
from tests.conftest import running
from tests.proxy.test_negotiate import CHROMIUM, SAFARI_15

KEY = b"k"
CONFIG = ProxyConfig(data_dir=Path("unused"), keys=(KEY,))
CSP = "script-src 'none'; frame-src 'none'; sandbox;"


def parse(query: str, config: ProxyConfig = CONFIG) -> tuple[int, int, SourceRef]:
    parsed = NextImageDialect(config).parse("", query)
    return parsed.spec.width, parsed.spec.quality, parsed.source


def test_asset_ids_with_or_without_a_slash_within_the_allow_list() -> None:
    assert parse("url=%2Fcat&w=640&q=75") == (640, 75, SourceRef.asset("cat"))
    assert parse("url=cat&w=16&q=75&dpl=dpl_123") == (16, 75, SourceRef.asset("cat"))
    assert parse("url=cat&w=0640&q=075") == (640, 75, SourceRef.asset("cat"))  # parseInt, as Next.js
    parsed = NextImageDialect(CONFIG).parse("", "url=/cat&w=3840&q=75")
    assert parsed.credential == Credential.bounded()
    assert parsed.spec.canonical() == "w:3840/q:75"  # fit inside, never enlarged, format negotiated
    assert parsed.negotiable == ("webp",)
    # AVIF quality is scaled as Next.js scales it, so `q` means the same in every format.
    assert parsed.spec_for("avif").canonical() == "w:3840/q:47"
    assert parsed.spec_for("webp") == parsed.spec_for("legacy") == parsed.spec


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w=640&q=75", '"url" parameter is required'),
        ("url=&w=640&q=75", '"url" parameter is required'),
        ("url=a&url=b&w=640&q=75", '"url" parameter cannot be an array'),
        ("url=" + "a" * 3073 + "&w=640&q=75", '"url" parameter is too long'),
        ("url=//evil.example/a.png&w=640&q=75", '"url" parameter cannot be a protocol-relative URL (//)'),
        ("url=%2F_next%2Fimage%3Furl%3Dx&w=640&q=75", '"url" parameter cannot be recursive'),
        ("url=/photos/cat.png&w=640&q=75", '"url" parameter is not allowed: expected /{asset id}'),
        ("url=ftp://example.com/a.png&w=640&q=75", '"url" parameter is invalid'),
        ("url=cat.png&w=640&q=75", '"url" parameter is invalid'),
        ("url=http://[::1&w=640&q=75", '"url" parameter is invalid'),
        (
            "url=https://user@example.com/a.png&w=640&q=75",
            '"url" parameter: URL needs a host and may not carry credentials or a fragment',
        ),
        ("url=cat&q=75", '"w" parameter (width) is required'),
        ("url=cat&w=640&w=750&q=75", '"w" parameter (width) cannot be an array'),
        ("url=cat&w=64O&q=75", '"w" parameter (width) must be an integer greater than 0'),
        ("url=cat&w=-640&q=75", '"w" parameter (width) must be an integer greater than 0'),
        ("url=cat&w=640", '"q" parameter (quality) is required'),
        ("url=cat&w=640&q=high", '"q" parameter (quality) must be an integer between 1 and 100'),
        ("url=cat&w=0&q=75", '"w" parameter (width) must be an integer greater than 0'),
        ("url=cat&w=641&q=75", '"w" parameter (width) of 641 is not allowed'),
        ("url=cat&w=" + "9" * 5000 + "&q=75", '"w" parameter (width) of 1000000000 is not allowed'),
        ("url=cat&w=640&q=0", '"q" parameter (quality) must be an integer between 1 and 100'),
        ("url=cat&w=640&q=101", '"q" parameter (quality) must be an integer between 1 and 100'),
        ("url=cat&w=640&q=80", '"q" parameter (quality) of 80 is not allowed'),
        ("&".join(f"p{i}=1" for i in range(17)) + "&url=cat&w=640&q=75", "too many query parameters"),
    ],
)
def test_bad_requests_get_next_js_messages(query: str, message: str) -> None:
    with pytest.raises(UrlError) as caught:
        NextImageDialect(CONFIG).parse("", query)
    assert caught.value.status == 400
    assert caught.value.message == message


def test_remote_sources_are_refused_unless_the_allow_list_admits_them() -> None:
    url = "https://images.example.com/photos/cat.jpg?v=2"
    parsed = NextImageDialect(CONFIG).parse("", f"url={quote(url, safe='')}&w=640&q=75")
    assert parsed.source == SourceRef(REMOTE, url)
    assert parsed.reply_headers.filename == "cat"
    with pytest.raises(Forbidden):
        check_source(parsed.source, ())  # IMGEDGE_REMOTE_SOURCES decides, before any traffic
    check_source(parsed.source, parse_prefixes(("https://images.example.com/photos/",)))


def test_only_the_exact_path_is_the_api() -> None:
    router = build_dialects(CONFIG)
    assert router.parse("/_next/image", "url=cat&w=640&q=75").credential.scheme == BOUNDED
    with pytest.raises(NotFound):
        router.parse("/_next/image/cat", "w=640&q=75")
    # Whole segments only: anything else is a native path, whose "_next" signature is refused on its shape.
    with pytest.raises(Forbidden, match="invalid signature"):
        router.parse("/_next/images", "")
    off = replace(CONFIG, next_image=replace(CONFIG.next_image, path=""))
    with pytest.raises(Forbidden, match="invalid signature"):
        build_dialects(off).parse("/_next/image", "url=cat&w=640&q=75")


def test_bounded_credentials_pass_without_opening_unsigned_native_urls() -> None:
    verify_credential(Credential.bounded(), Keyring(native=(KEY,)), allow_unsigned=False)
    with pytest.raises(Forbidden):
        verify_credential(Credential(UNSIGNED, "", b""), Keyring(native=(KEY,)), allow_unsigned=False)


def test_settings_mirror_next_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_PATH", "/img/next/")
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_SIZES", "400, 800,800")
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_QUALITIES", "50,75")
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_FORMATS", "image/avif,webp")
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_CONTENT_DISPOSITION", "inline")
    assert NextImageConfig.from_env(max_width=8192) == NextImageConfig(
        path="/img/next", sizes=(400, 800), qualities=(50, 75), formats=("avif", "webp"), disposition="inline"
    )
    monkeypatch.setenv("IMGEDGE_NEXT_IMAGE_PATH", "OFF")
    assert NextImageConfig.from_env(max_width=8192).path == ""


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("IMGEDGE_NEXT_IMAGE_SIZES", "640,9000", "within 1..8192"),
        ("IMGEDGE_NEXT_IMAGE_SIZES", "640,abc", "whole numbers"),
        ("IMGEDGE_NEXT_IMAGE_QUALITIES", "75,0", "within 1..100"),
        ("IMGEDGE_NEXT_IMAGE_FORMATS", "image/png", "is not one of"),
        ("IMGEDGE_NEXT_IMAGE_PATH", "next-image", "must be a path"),
        ("IMGEDGE_NEXT_IMAGE_PATH", "/healthz", "the proxy's own routes"),
        ("IMGEDGE_NEXT_IMAGE_PATH", "/admin/img", "the proxy's own routes"),
        ("IMGEDGE_NEXT_IMAGE_PATH", "/_/next", "native unsigned URLs"),
        ("IMGEDGE_NEXT_IMAGE_CONTENT_DISPOSITION", "download", "must be one of"),
    ],
)
def test_bad_settings_stop_the_proxy_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable) as caught:
        NextImageConfig.from_env(max_width=8192)
    assert problem in str(caught.value)


@dataclass
class Proxy:
    url: str
    client: httpx.Client

    def get(self, query: str, accept: str | None = CHROMIUM, path: str = "/_next/image") -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        return self.client.get(f"{self.url}{path}?{query}", headers=headers)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, photo_png: bytes, alpha_png: bytes) -> Iterator[Proxy]:
    tmp: Path = tmp_path_factory.mktemp("next-image")
    (tmp / "o").mkdir()
    (tmp / "o" / "photo.png").write_bytes(photo_png)
    (tmp / "o" / "alpha.png").write_bytes(alpha_png)
    next_image = NextImageConfig(path="/_next/image", formats=("avif", "webp"), qualities=(50, 75))
    config = ProxyConfig(
        data_dir=tmp, source="filesystem", originals_dir=tmp / "o", keys=(KEY,), next_image=next_image
    )
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    with running(app) as url, httpx.Client(timeout=60) as client:
        yield Proxy(url, client)


def test_a_variant_with_the_headers_next_js_sends(proxy: Proxy) -> None:
    first = proxy.get("url=%2Fphoto&w=640&q=75", accept=SAFARI_15)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(first.content, "").width == 640
    assert first.headers["vary"] == "Accept"
    assert first.headers["cache-control"] == "public, max-age=31536000, must-revalidate"
    assert first.headers["content-security-policy"] == CSP
    assert first.headers["content-disposition"] == 'attachment; filename="photo.webp"'
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.headers["etag"].startswith('"')
    assert first.headers["cache-status"] == "imgedge; fwd=miss; stored"

    again = proxy.client.get(
        str(first.url), headers={"Accept": SAFARI_15, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["vary"] == "Accept"
    assert again.headers["cache-control"] == "public, max-age=31536000, must-revalidate"
    head = proxy.client.head(str(first.url), headers={"Accept": SAFARI_15})
    assert head.status_code == 200 and head.content == b""


def test_format_from_accept_among_the_configured_formats(proxy: Proxy) -> None:
    avif = proxy.get("url=photo&w=750&q=75")
    assert avif.headers["content-type"] == "image/avif"
    assert avif.headers["content-disposition"] == 'attachment; filename="photo.avif"'
    # The AVIF quality Next.js would use is the native variant w:750/q:47: one cache entry for both.
    native = build_path("photo", key=KEY, width=750, quality=47)
    same = proxy.client.get(proxy.url + native, headers={"Accept": CHROMIUM})
    assert same.headers["cache-status"].startswith("imgedge; hit")
    assert same.headers["etag"] == avif.headers["etag"]
    assert same.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" not in same.headers

    legacy = proxy.get("url=photo&w=750&q=75", accept="*/*")
    assert legacy.headers["content-type"] == "image/jpeg"
    assert legacy.headers["content-disposition"] == 'attachment; filename="photo.jpeg"'
    alpha = proxy.get("url=alpha&w=256&q=50", accept=None)
    assert alpha.headers["content-type"] == "image/png"
    assert alpha.headers["vary"] == "Accept"


def test_lower_quality_is_smaller_and_nothing_is_enlarged(proxy: Proxy) -> None:
    good = proxy.get("url=photo&w=1080&q=75", accept=SAFARI_15)
    low = proxy.get("url=photo&w=1080&q=50", accept=SAFARI_15)
    assert len(low.content) < len(good.content)
    # Like Next.js (withoutEnlargement), a 1024 px original is never blown up to 3840.
    wide = proxy.get("url=photo&w=3840&q=75", accept=SAFARI_15)
    assert pyvips.Image.new_from_buffer(wide.content, "").width == 1024


def test_refusals_are_short_and_the_proxy_keeps_serving(proxy: Proxy) -> None:
    for query, status, message in [
        ("url=photo&w=641&q=75", 400, '"w" parameter (width) of 641 is not allowed'),
        ("url=photo&w=640&q=80", 400, '"q" parameter (quality) of 80 is not allowed'),
        (
            "url=https%3A%2F%2Fexample.com%2Fa.png&w=640&q=75",
            403,
            "source is not allowed (IMGEDGE_REMOTE_SOURCES)",
        ),
        ("url=nosuchasset&w=640&q=75", 404, "asset not found"),
    ]:
        response = proxy.get(query)
        assert (response.status_code, response.text.strip()) == (status, message), query
    assert proxy.client.get(proxy.url + "/_/w:640/photo").status_code == 403  # native stays signed
    assert proxy.get("url=photo&w=640&q=75").status_code == 200
