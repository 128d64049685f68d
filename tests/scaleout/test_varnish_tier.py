"""Varnish with deploy/varnish/default.vcl in front of `imgedge serve`: hits, Accept variants, purge."""

from __future__ import annotations

import time

import httpx
import pyvips

from tests.scaleout.conftest import Stack

# What Chromium sends for <img>, Firefox's (another AVIF browser), Safari 14's (WebP, no AVIF), and a
# client that can only show JPEG and PNG.
CHROMIUM = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,*/*"
SAFARI_14 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
JPEG_ONLY = "image/jpeg,image/png;q=0.9"


def lookups(stack: Stack, timeout_s: float = 120) -> int:
    """Cache lookups proxy A has answered: any request that reached it adds one. Counted once no q:auto search
    runs: a miss through f:auto starts one in the background, and it reads the asset's learned qualities from
    the same cache when it starts and again before it searches."""
    deadline = time.monotonic() + timeout_s
    while True:
        stats = stack.stats(stack.proxy_a)
        quality = stats["quality"]
        if quality is None or quality["searches"] == 0:
            break
        assert time.monotonic() < deadline, "q:auto searches still running"
        time.sleep(0.1)
    memory = stats["results"]["memory"]
    assert isinstance(memory, dict)
    return int(memory["hits"]) + int(memory["misses"])


def test_second_request_is_a_varnish_hit_that_never_reaches_imgedge(stack: Stack) -> None:
    url = stack.varnish + stack.url("--width", "200")
    with httpx.Client(timeout=60) as client:
        first = client.get(url, headers={"Accept": CHROMIUM})
        assert first.status_code == 200, first.text
        assert first.headers["x-cache"] == "MISS"
        assert first.headers["cache-status"] == "imgedge; fwd=miss; stored, varnish; fwd=miss"
        before = lookups(stack)
        second = client.get(url, headers={"Accept": CHROMIUM})
        assert second.headers["x-cache"] == "HIT"
        assert second.headers["cache-status"].endswith("varnish; hit")
        assert int(second.headers["age"]) >= 0
        assert second.content == first.content
        assert lookups(stack) == before


def test_accept_is_normalised_to_three_variants(stack: Stack) -> None:
    url = stack.varnish + stack.url("--width", "160")
    with httpx.Client(timeout=60) as client:
        chromium = client.get(url, headers={"Accept": CHROMIUM})
        jpeg = client.get(url, headers={"Accept": JPEG_ONLY})
        assert chromium.headers["content-type"] == "image/avif"
        assert jpeg.headers["content-type"] == "image/jpeg"
        # f:auto means q:auto, whose target Save-Data lowers: the response varies on both.
        assert chromium.headers["vary"] == jpeg.headers["vary"] == "Accept, Save-Data"
        assert (chromium.headers["x-cache"], jpeg.headers["x-cache"]) == ("MISS", "MISS")
        before = lookups(stack)
        # Different Accept strings that imgedge would answer the same way share one Varnish copy.
        firefox = client.get(url, headers={"Accept": FIREFOX})
        no_accept = client.get(url)
        assert (firefox.headers["x-cache"], firefox.content) == ("HIT", chromium.content)
        assert (no_accept.headers["x-cache"], no_accept.content) == ("HIT", jpeg.content)
        assert lookups(stack) == before
        safari = client.get(url, headers={"Accept": SAFARI_14})
        assert (safari.headers["content-type"], safari.headers["x-cache"]) == ("image/webp", "MISS")


def test_admin_purge_empties_varnish_for_the_asset(stack: Stack) -> None:
    url = stack.varnish + stack.url("--width", "120")
    with httpx.Client(timeout=60) as client:
        for accept in (CHROMIUM, JPEG_ONLY):
            client.get(url, headers={"Accept": accept})
            assert client.get(url, headers={"Accept": accept}).headers["x-cache"] == "HIT"
        purged = client.post(f"{stack.proxy_a}/admin/purge/{stack.asset_id}", headers=stack.admin)
        assert purged.status_code == 200, purged.text
        cdn = stack.stats(stack.proxy_a)["purge"]
        assert cdn["cdn_failed"] == 0 and int(str(cdn["cdn_sent"])) >= 1
        for accept in (CHROMIUM, JPEG_ONLY):
            before = lookups(stack)
            after = client.get(url, headers={"Accept": accept})
            assert after.status_code == 200
            assert after.headers["x-cache"] == "MISS"
            assert after.headers["cache-status"] == "imgedge; fwd=miss; stored, varnish; fwd=miss"
            assert lookups(stack) == before + 1


def test_ban_requests_need_one_surrogate_key(stack: Stack) -> None:
    with httpx.Client(timeout=30) as client:
        assert client.request("BAN", stack.varnish + "/").status_code == 400
        regex = client.request("BAN", stack.varnish + "/", headers={"Surrogate-Key": "a|.*"})
        assert regex.status_code == 400


def test_client_hints_are_bucketed_by_varnish_and_honoured_by_imgedge(stack: Stack) -> None:
    url = stack.varnish + stack.url("-o", "w:auto:300", "--format", "webp", "--quality", "auto")
    with httpx.Client(timeout=60) as client:
        first = client.get(url, headers={"Sec-CH-Width": "700"})
        assert first.status_code == 200, first.text
        assert first.headers["x-cache"] == "MISS" and first.headers["accept-ch"].startswith("Sec-CH-DPR")
        assert first.headers["vary"] == "Save-Data, Sec-CH-Width, Sec-CH-Viewport-Width, Sec-CH-DPR"
        assert pyvips.Image.new_from_buffer(first.content, "").width == 768
        before = lookups(stack)
        # 720 device pixels round to the same bucket: Varnish answers without asking imgedge.
        same = client.get(url, headers={"Sec-CH-Width": "720.5"})
        assert (same.headers["x-cache"], same.content) == ("HIT", first.content)
        assert lookups(stack) == before
        wider = client.get(url, headers={"Sec-CH-Width": "1000"})
        assert wider.headers["x-cache"] == "MISS"
        assert pyvips.Image.new_from_buffer(wider.content, "").width == 1024
        fallback = client.get(url)
        assert pyvips.Image.new_from_buffer(fallback.content, "").width == 300
        saving = client.get(url, headers={"Sec-CH-Width": "700", "Save-Data": "on"})
        assert saving.headers["x-cache"] == "MISS" and len(saving.content) < len(first.content)
        assert client.get(url, headers={"Sec-CH-Width": "700", "Save-Data": "ON"}).headers["x-cache"] == "HIT"


def test_dpr_hint_buckets_through_varnish(stack: Stack) -> None:
    url = stack.varnish + stack.url("--width", "120", "-o", "dpr:auto", "--format", "jpeg", "--quality", "75")
    with httpx.Client(timeout=60) as client:
        double = client.get(url, headers={"Sec-CH-DPR": "2.2"})
        assert pyvips.Image.new_from_buffer(double.content, "").width == 240
        assert double.headers["content-dpr"] == "2" and double.headers["vary"] == "Sec-CH-DPR"
        again = client.get(url, headers={"Sec-CH-DPR": "1.9"})
        assert (again.headers["x-cache"], again.content) == ("HIT", double.content)
        single = client.get(url, headers={"Sec-CH-DPR": "garbage"})
        assert pyvips.Image.new_from_buffer(single.content, "").width == 120
