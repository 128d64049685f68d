"""q:auto, client hints and /info through the real proxy over HTTP, in front of a real HTTP origin."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import pyvips

from imgedge.cache.config import CacheConfig
from imgedge.imaging import autoquality
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.url.build import build_path, info_path
from tests.conftest import running
from tests.proxy.test_http import Origin, Stack
from tests.proxy.test_negotiate import CHROMIUM

KEY = b"auto-key"
PHOTO, REJECTED = "photo", "rejected"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, landscape_png: bytes) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("auto")
    origin = Origin(files={PHOTO: (landscape_png, "approved"), REJECTED: (landscape_png, "rejected")})
    with running(origin.app()) as origin_url:
        config = ProxyConfig(data_dir=tmp, keys=(KEY,), origin_url=origin_url, client_hints=True)
        app = create_app(config, cache_config=CacheConfig(disk_dir=tmp / "cache"))
        with running(app) as proxy_url, httpx.Client(timeout=60) as client:
            yield Stack(proxy_url, origin, client)


def path(**opts: object) -> str:
    return build_path(PHOTO, key=KEY, **opts)  # type: ignore[arg-type]


def learned_count(stack: Stack) -> float:
    metrics = stack.client.get(stack.proxy + "/metrics").text
    lines = [line for line in metrics.splitlines() if line.startswith("imgedge_quality_learned_total{")]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def wait_learned(stack: Stack, at_least: float) -> None:
    deadline = time.monotonic() + 60
    while learned_count(stack) < at_least:
        assert time.monotonic() < deadline, "the background search did not finish"
        time.sleep(0.2)


def reference(width: int, landscape_png: bytes) -> pyvips.Image:
    return pyvips.Image.thumbnail_buffer(landscape_png, width).copy_memory()


def test_q_auto_estimates_first_then_learns_for_the_size_class(stack: Stack, landscape_png: bytes) -> None:
    before = learned_count(stack)
    first = stack.get(path(width=240, fmt="webp", quality="auto"))
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    estimated = autoquality.estimate("webp", 70)
    assert first.headers["x-imgedge-quality"] == f"{estimated}; estimated"
    wait_learned(stack, before + 1)

    later = stack.get(path(width=250, fmt="webp", quality="auto"))  # same size class: no new search
    quality, how = later.headers["x-imgedge-quality"].split("; ")
    assert how == "learned" and int(quality) <= estimated
    assert len(later.content) < len(first.content) * 250**2 / 240**2
    score = autoquality.score(reference(250, landscape_png), later.content)
    assert score >= 70 - 3  # the proxy's resize and the reference's differ a little
    # A hit answers with the same bytes and the quality it was made with.
    again = stack.get(path(width=250, fmt="webp", quality="auto"))
    assert again.headers["cache-status"].startswith("imgedge; hit")
    assert again.headers["x-imgedge-quality"] == later.headers["x-imgedge-quality"]


def test_f_auto_defaults_to_q_auto_and_targets_order_the_bytes(stack: Stack) -> None:
    default = stack.get(path(width=200, fmt="auto"), accept=CHROMIUM)
    explicit = stack.get(path(width=200, fmt="auto", quality="auto"), accept=CHROMIUM)
    assert explicit.headers["cache-status"].startswith("imgedge; hit")  # one entry for both spellings
    assert default.content == explicit.content and "x-imgedge-quality" in default.headers
    low = stack.get(path(width=200, fmt="jpeg", quality="auto:low"))
    best = stack.get(path(width=200, fmt="jpeg", quality="auto:best"))
    assert int(low.headers["x-imgedge-quality"].split(";")[0]) < int(
        best.headers["x-imgedge-quality"].split(";")[0]
    )
    assert len(low.content) < len(best.content)
    fixed = stack.get(path(width=200, fmt="webp", quality=80))
    assert "x-imgedge-quality" not in fixed.headers and "vary" not in fixed.headers


def test_width_hint_is_bucketed_keyed_and_varied(stack: Stack) -> None:
    url = build_path(PHOTO, key=KEY, fmt="webp", quality=70, extra=["w:auto:300"])
    fallback = stack.get(url)
    assert pyvips.Image.new_from_buffer(fallback.content, "").width == 300
    assert fallback.headers["vary"] == "Sec-CH-Width, Sec-CH-Viewport-Width, Sec-CH-DPR"
    assert fallback.headers["accept-ch"] == "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width"
    hinted = stack.get(url, **{"Sec-CH-Width": "700"})
    assert pyvips.Image.new_from_buffer(hinted.content, "").width == 768
    # The hint resolved to w:768, which an explicit URL shares.
    explicit = stack.get(path(width=768, fmt="webp", quality=70))
    assert explicit.headers["cache-status"].startswith("imgedge; hit")
    assert stack.get(url, **{"Sec-CH-Width": "9" * 100}).content == fallback.content  # unusable: ignored


def test_dpr_hint_scales_and_says_content_dpr(stack: Stack) -> None:
    url = build_path(
        PHOTO, key=KEY, width=150, height=100, fit="cover", fmt="jpeg", quality=70, extra=["dpr:auto"]
    )
    plain = stack.get(url)
    assert pyvips.Image.new_from_buffer(plain.content, "").width == 150 and "content-dpr" not in plain.headers
    double = stack.get(url, **{"Sec-CH-DPR": "2.1"})
    decoded = pyvips.Image.new_from_buffer(double.content, "")
    assert (decoded.width, decoded.height) == (300, 200)
    assert double.headers["content-dpr"] == "2" and double.headers["vary"] == "Sec-CH-DPR"


def test_save_data_lowers_the_target(stack: Stack) -> None:
    url = path(width=180, fmt="jpeg", quality="auto:best")
    normal = stack.get(url)
    saving = stack.get(url, **{"Save-Data": "on"})
    assert normal.headers["vary"] == saving.headers["vary"] == "Save-Data"
    assert len(saving.content) < len(normal.content)


def test_info_is_signed_and_gives_size_and_placeholders(stack: Stack) -> None:
    response = stack.client.get(stack.proxy + info_path(PHOTO, key=KEY))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["asset_id"], body["width"], body["height"]) == (PHOTO, 900, 600)
    assert set(body["placeholders"]) == {"thumbhash", "blurhash", "dominant_color", "average_color", "lqip"}
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    fetches = stack.origin.fetches.get(PHOTO, 0)
    assert stack.client.get(stack.proxy + info_path(PHOTO, key=KEY)).json() == body
    assert stack.origin.fetches.get(PHOTO, 0) == fetches  # computed once, then kept
    assert stack.client.get(stack.proxy + info_path(PHOTO, key=b"wrong")).status_code == 403
    assert stack.client.get(stack.proxy + info_path(PHOTO, key=None)).status_code == 403
    assert stack.client.get(stack.proxy + info_path(REJECTED, key=KEY)).status_code == 451
    assert stack.client.get(stack.proxy + "/info/x/not!an-id").status_code == 400
