"""The proxy over real HTTP, in front of a real HTTP origin that speaks the generator store's contract."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pyvips
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.url import ParseSettings
from imgedge.url.build import build_path
from tests.conftest import free_port, running
from tests.proxy.test_negotiate import CHROMIUM, SAFARI_15

KEY, OLD_KEY = b"current-key", b"previous-key"
PRESETS = {"thumb": "w:128/h:128/fit:cover"}
WRONG_SIGNATURE = "A" * 43  # the shape of a signature, not the value

PHOTO, ALPHA, PENDING, REJECTED, BOMB, CORRUPT, TEXT, SLOW = (
    "photo", "alpha", "pending", "rejected", "bomb", "corrupt", "text", "slow"
)  # fmt: skip


@dataclass
class Origin:
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fetches: dict[str, int] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def original(request: Request) -> Response:
            asset_id = request.path_params["asset_id"]
            self.fetches[asset_id] = self.fetches.get(asset_id, 0) + 1
            if asset_id == SLOW:
                await asyncio.sleep(3)
            if asset_id not in self.files:
                return PlainTextResponse("asset not found", status_code=404)
            body, moderation = self.files[asset_id]
            headers = {"ETag": f'"{asset_id}"', "X-Imgedge-Moderation": moderation}
            return Response(body, media_type="image/png", headers=headers)

        return Starlette(routes=[Route("/originals/{asset_id}", original)])


@dataclass
class Stack:
    proxy: str
    origin: Origin
    client: httpx.Client

    def get(self, path: str, accept: str | None = CHROMIUM, **headers: str) -> httpx.Response:
        if accept is not None:
            headers["Accept"] = accept
        return self.client.get(self.proxy + path, headers=headers)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, photo_png: bytes, alpha_png: bytes) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("http")
    origin = Origin()
    origin.files = {
        PHOTO: (photo_png, "approved"),
        ALPHA: (alpha_png, "approved"),
        PENDING: (photo_png, "pending"),
        REJECTED: (photo_png, "rejected"),
        BOMB: (pyvips.Image.black(20000, 20000).write_to_buffer(".png", compression=9), "approved"),
        CORRUPT: (photo_png[: len(photo_png) // 3], "approved"),
        TEXT: (b"hello, I am not an image\n" * 40, "approved"),
        SLOW: (photo_png, "approved"),
    }
    config = ProxyConfig(
        data_dir=tmp, keys=(KEY, OLD_KEY), admin_token="admin-secret", origin_timeout_s=1.0,
        max_src_pixels=50_000_000, presets=PRESETS,
    )  # fmt: skip
    with running(origin.app()) as origin_url:
        config = ProxyConfig(
            **{**{f: getattr(config, f) for f in config.__slots__}, "origin_url": origin_url}
        )
        app = create_app(config, cache_config=CacheConfig(disk_dir=tmp / "cache"))
        with running(app) as proxy_url, httpx.Client(timeout=30) as client:
            yield Stack(proxy_url, origin, client)


def path(asset: str, key: bytes | None = KEY, **opts: object) -> str:
    return build_path(asset, key=key, **opts)  # type: ignore[arg-type]


def test_negotiated_variant_then_hit_with_correct_headers(stack: Stack) -> None:
    url = path(PHOTO, width=400, height=300, fit="cover", fmt="auto")
    first = stack.get(url)
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/avif"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.headers["vary"] == "Accept"
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert first.headers["cache-status"] == "imgedge; fwd=miss; stored"
    assert first.headers["surrogate-key"] == PHOTO
    timing = first.headers["server-timing"]
    assert all(f"{stage};dur=" in timing for stage in ("fetch", "transform", "encode", "total"))
    decoded = pyvips.Image.new_from_buffer(first.content, "")
    assert (decoded.width, decoded.height) == (400, 300)

    second = stack.get(url)
    assert second.headers["cache-status"].startswith("imgedge; hit")
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]

    webp = stack.get(url, accept=SAFARI_15)
    assert webp.headers["content-type"] == "image/webp"
    jpeg = stack.get(url, accept="*/*")
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert pyvips.Image.new_from_buffer(jpeg.content, "").width == 400
    png = stack.get(path(ALPHA, width=100), accept=None)
    assert png.headers["content-type"] == "image/png"


def test_explicit_format_does_not_vary(stack: Stack) -> None:
    response = stack.get(path(PHOTO, width=120, fmt="webp"))
    assert response.headers["content-type"] == "image/webp"
    assert "vary" not in response.headers


def test_etag_304_and_head(stack: Stack) -> None:
    url = path(PHOTO, width=200)
    full = stack.get(url)
    etag = full.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    not_modified = stack.get(url, **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert stack.get(url, **{"If-None-Match": '"other", ' + etag}).status_code == 304
    assert stack.get(url, **{"If-None-Match": '"other"'}).status_code == 200
    head = stack.client.head(stack.proxy + url, headers={"Accept": CHROMIUM})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["content-type"] == full.headers["content-type"]


def test_signatures_cover_the_canonical_form_and_rotate(stack: Stack) -> None:
    signed = path(PHOTO, width=150, height=100, fit="cover")
    signature = signed.split("/")[1]
    assert stack.get(signed).status_code == 200
    reordered = f"/{signature}/rt:fill/h:100/width:150/{PHOTO}"
    assert stack.get(reordered).status_code == 200
    assert (
        stack.get(path(PHOTO, key=OLD_KEY, width=150)).status_code == 200
    )  # the previous key still verifies
    forged = stack.get(path(PHOTO, key=b"someone-else", width=150))
    assert forged.status_code == 403 and "signature" in forged.text
    tampered = stack.get(f"/{signature}/w:151/h:100/fit:cover/{PHOTO}")
    assert tampered.status_code == 403
    assert stack.get(f"/_/w:150/{PHOTO}").status_code == 403


def test_expiring_urls(stack: Stack) -> None:
    live = stack.get(path(PHOTO, width=90, expires_in=600))
    assert live.status_code == 200
    max_age = int(live.headers["cache-control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 600
    expired = stack.get(path(PHOTO, width=90, expires_in=-5))
    assert expired.status_code == 403 and "expired" in expired.text


def test_moderation_gates_delivery(stack: Stack) -> None:
    assert stack.get(path(PENDING, width=100)).status_code == 403
    preview = stack.get(path(PENDING, width=100, expires_in=300))
    assert preview.status_code == 200
    assert preview.headers["cache-control"].startswith("private, max-age=")
    assert stack.get(path(PENDING, width=100)).status_code == 403  # the cached variant is gated too
    rejected = stack.get(path(REJECTED, width=100, expires_in=300))
    assert rejected.status_code == 451 and rejected.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        (f"/_/w:abc/{PHOTO}", 400, "w:"),
        (f"/{WRONG_SIGNATURE}/zoom:3/{PHOTO}", 400, "zoom"),
        (build_path(PHOTO, key=KEY, width=99999), 400, "width: 99999 exceeds the maximum"),
        ("/only-one-segment", 400, "expected"),
        (f"/{WRONG_SIGNATURE}/w:10/{PHOTO}.bmp", 400, "extension"),
        ("/sig/w:10/bad!id", 400, "asset id"),
    ],
)
def test_bad_urls_are_400_naming_the_problem(stack: Stack, url: str, status: int, message: str) -> None:
    response = stack.get(url)
    assert response.status_code == status
    assert message in response.text
    assert response.headers["cache-control"] == "public, max-age=10"


@pytest.mark.parametrize(
    ("asset", "status"),
    [("missing", 404), (BOMB, 413), (CORRUPT, 422), (TEXT, 415), (SLOW, 504)],
)
def test_bad_sources_get_their_status_and_the_server_keeps_serving(
    stack: Stack, asset: str, status: int
) -> None:
    response = stack.get(path(asset, width=64))
    assert response.status_code == status, response.text
    assert response.text.strip() and len(response.text) < 200
    assert stack.get(path(PHOTO, width=64)).status_code == 200


def test_origin_down_is_502(tmp_path: Path) -> None:
    config = ProxyConfig(
        data_dir=tmp_path, keys=(KEY,), origin_url=f"http://127.0.0.1:{free_port()}", origin_wait_s=0.3
    )
    app = create_app(config, cache_config=CacheConfig(disk_dir=tmp_path / "cache"))
    with running(app) as proxy_url:
        response = httpx.get(proxy_url + path(PHOTO, width=64))
        assert response.status_code == 502
        assert response.headers["cache-control"] == "no-store"
        assert httpx.get(proxy_url + "/healthz").status_code == 200


def test_a_miss_waits_for_an_origin_that_is_still_starting(tmp_path: Path, photo_png: bytes) -> None:
    port = free_port()
    config = ProxyConfig(
        data_dir=tmp_path, keys=(KEY,), origin_url=f"http://127.0.0.1:{port}", origin_wait_s=60
    )
    answers: list[httpx.Response] = []
    with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as proxy_url:
        miss = threading.Thread(
            target=lambda: answers.append(httpx.get(proxy_url + path(PHOTO, width=64), timeout=90))
        )
        miss.start()
        time.sleep(1.0)  # nothing listens on the origin's port yet: the miss is still waiting, not a 502
        assert miss.is_alive() and not answers
        with running(Origin(files={PHOTO: (photo_png, "approved")}).app(), port=port):
            miss.join(timeout=90)
    assert [a.status_code for a in answers] == [200]


def test_concurrent_misses_transform_once_and_variants_fetch_the_origin_once(stack: Stack) -> None:
    stack.origin.fetches.clear()
    url = path(PHOTO, width=333, fmt="webp")

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(*(client.get(stack.proxy + url) for _ in range(16)))

    responses = asyncio.run(burst())
    statuses = [r.headers["cache-status"] for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert statuses.count("imgedge; fwd=miss; stored") == 1
    assert all(s == "imgedge; fwd=miss; stored" or "collapsed" in s or "hit" in s for s in statuses)
    assert len({r.content for r in responses}) == 1
    for width in (101, 202, 303, 404):
        assert stack.get(path(PHOTO, width=width)).status_code == 200
    assert stack.origin.fetches.get(PHOTO, 0) <= 1  # the source cache served the original after that


def test_presets_and_purge(stack: Stack) -> None:
    expanded = build_path(PHOTO, key=KEY, extra=["pr:thumb"], settings=ParseSettings(presets=PRESETS))
    assert expanded.endswith(f"/w:128/h:128/fit:cover/{PHOTO}")
    url = f"/{expanded.split('/')[1]}/pr:thumb/{PHOTO}"  # the signature covers what the preset expands to
    first = stack.get(url)
    decoded = pyvips.Image.new_from_buffer(first.content, "")
    assert (decoded.width, decoded.height) == (128, 128)
    assert stack.get(url).headers["cache-status"].startswith("imgedge; hit")
    purge_url = f"{stack.proxy}/admin/purge/{PHOTO}"
    assert stack.client.post(purge_url).status_code == 401
    assert stack.client.post(purge_url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    purged = stack.client.post(purge_url, headers={"Authorization": "Bearer admin-secret"})
    assert purged.status_code == 200 and purged.json()["purged"] >= 1
    fetches = stack.origin.fetches.get(PHOTO, 0)
    assert stack.get(url).headers["cache-status"] == "imgedge; fwd=miss; stored"
    assert stack.origin.fetches[PHOTO] == fetches + 1  # the original was purged too


def test_unsigned_urls_when_allowed(tmp_path: Path, landscape_png: bytes) -> None:
    (tmp_path / "originals").mkdir()
    (tmp_path / "originals" / "coffee.png").write_bytes(landscape_png)
    config = ProxyConfig(data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "originals",
                         allow_unsigned=True)  # fmt: skip
    with running(create_app(config, cache_config=CacheConfig(disk_dir=tmp_path / "cache"))) as url:
        response = httpx.get(url + "/_/w:300/h:300/fit:cover/g:sm/coffee.webp")
        assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
        decoded = pyvips.Image.new_from_buffer(response.content, "")
        assert (decoded.width, decoded.height) == (300, 300)
        assert httpx.get(url + "/unsafe/w:300/nothing").status_code == 404


def test_equivalent_urls_and_accepts_share_one_cache_entry(stack: Stack) -> None:
    first = stack.get(path(PHOTO, width=222, height=111, fit="cover"))
    assert first.headers["cache-status"] == "imgedge; fwd=miss; stored"
    signature = path(PHOTO, width=222, height=111, fit="cover").split("/")[1]
    for spelling in ("h:111/w:222/rt:fill", "width:222/height:111/fit:crop/g:ce/f:auto/strip:1/el:0/rot:0"):
        again = stack.get(f"/{signature}/{spelling}/{PHOTO}")
        assert again.headers["cache-status"].startswith("imgedge; hit"), spelling
    # Firefox and Chromium send different Accept strings that both negotiate AVIF: one entry.
    firefox = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
    assert (
        stack.get(path(PHOTO, width=222, height=111, fit="cover"), accept=firefox)
        .headers["cache-status"]
        .startswith("imgedge; hit")
    )
    # dpr is folded into the size: w:111/dpr:2 is the w:222 variant.
    assert stack.get(path(PHOTO, width=300, height=200, fit="cover")).status_code == 200
    retina = stack.get(path(PHOTO, width=150, height=100, dpr=2, fit="cover"))
    assert retina.headers["cache-status"].startswith("imgedge; hit")


def test_stats_count_hits_misses_and_collapsed(stack: Stack) -> None:
    assert stack.client.get(stack.proxy + "/admin/stats").status_code == 401
    stats = stack.client.get(
        stack.proxy + "/admin/stats", headers={"Authorization": "Bearer admin-secret"}
    ).json()
    assert stats["results"]["memory"]["hits"] > 0 and stats["results"]["memory"]["stored_bytes"] > 0
    assert stats["single_flight"]["collapsed"] >= 1
    assert stats["origin_fetches"] >= 1


def test_cached_variants_survive_an_origin_outage(tmp_path: Path, photo_png: bytes) -> None:
    origin = Origin(files={PHOTO: (photo_png, "approved"), ALPHA: (photo_png, "approved")})
    cache_config = CacheConfig(disk_dir=tmp_path / "cache")
    port = free_port()
    with running(origin.app(), port=port) as origin_url:
        config = ProxyConfig(
            data_dir=tmp_path, keys=(KEY,), origin_url=origin_url, origin_timeout_s=2, origin_wait_s=0.3
        )
        app = create_app(config, cache_config=cache_config)
        with running(app) as proxy_url:
            assert httpx.get(proxy_url + path(PHOTO, width=120)).status_code == 200
            # Its second use puts the original on disk too (one view alone would not: share_on_reuse).
            assert httpx.get(proxy_url + path(PHOTO, width=90)).status_code == 200
    # Origin gone; a fresh proxy process on the same data dir still has the variant on disk.
    with running(create_app(config, cache_config=cache_config)) as proxy_url:
        cached = httpx.get(proxy_url + path(PHOTO, width=120))
        assert cached.status_code == 200 and cached.headers["cache-status"] == "imgedge; hit; detail=disk"
        # A disk hit (awaited tiers) and a memory hit (the process-local tier) give the same answer.
        promoted = httpx.get(proxy_url + path(PHOTO, width=120))
        assert promoted.headers["cache-status"] == "imgedge; hit; detail=memory"
        varying = {"cache-status", "server-timing", "x-request-id", "date"}
        assert {k: v for k, v in promoted.headers.items() if k not in varying} == {
            k: v for k, v in cached.headers.items() if k not in varying
        }
        assert promoted.content == cached.content
        another_size = httpx.get(proxy_url + path(PHOTO, width=60))  # the original is in the source cache
        assert another_size.status_code == 200
        assert httpx.get(proxy_url + path(ALPHA, width=60)).status_code == 502


def test_unwritable_disk_cache_keeps_serving(tmp_path: Path, landscape_png: bytes) -> None:
    (tmp_path / "originals").mkdir()
    (tmp_path / "originals" / "coffee.png").write_bytes(landscape_png)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    config = ProxyConfig(
        data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "originals", keys=(KEY,)
    )
    with running(create_app(config, cache_config=CacheConfig(disk_dir=blocked))) as url:
        for _ in range(2):
            response = httpx.get(url + path("coffee", width=200))
            assert response.status_code == 200
        assert response.headers["cache-status"] == "imgedge; hit; detail=memory"


def test_metrics_readyz_and_request_ids(stack: Stack) -> None:
    response = stack.get(path(PHOTO, width=77), **{"X-Request-Id": "cdn-abc.123"})
    assert response.headers["x-request-id"] == "cdn-abc.123"
    generated = stack.get(path(PHOTO, width=77), **{"X-Request-Id": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 16
    body = stack.client.get(stack.proxy + "/metrics").text
    names = ["proxy_requests_total", "proxy_stage_seconds_bucket", "cache_lookups_total"]
    names += ["origin_fetches_total"]
    names += ["transform_errors_total", "vips_memory_bytes", "cache_stored_bytes", "transform_queue_depth"]
    for name in names:
        assert f"imgedge_{name}" in body, name
    assert 'stage="transform"' in body and 'result="hit"' in body
    ready = stack.client.get(stack.proxy + "/readyz")
    assert ready.status_code == 503  # the test origin has no /healthz: the proxy says so
    assert "origin" in ready.json()["problems"][0]
