"""A libvips failure on a valid original is a 500 the operator sees (log, metric), never the client's 4xx;
a damaged original stays a 422. libvips' own operation blocking stands in for a library that cannot."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from imgedge.cache.config import CacheConfig
from imgedge.errors import PublicError
from imgedge.imaging import webp_direct
from imgedge.imaging.encode import EncoderSettings
from imgedge.imaging.errors import CorruptImage, LibvipsFailure
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.pipeline.decoded import decode
from imgedge.proxy.pipeline.run import transform
from imgedge.url import ParseSettings, parse_options
from tests.conftest import libvips_blocked, photo, running


def render(data: bytes | object, options: str, fmt: str = "webp") -> None:
    spec = parse_options(options.split("/"), ParseSettings())
    transform(data, spec, fmt, max_pixels=50_000_000, settings=EncoderSettings())  # type: ignore[arg-type]


def raised(options: str, data: object, fmt: str = "webp") -> PublicError:
    with pytest.raises(PublicError) as caught:
        render(data, options, fmt)
    return caught.value


@pytest.fixture(scope="module")
def png() -> bytes:
    return bytes(photo("coffee", 128).write_to_buffer(".png"))


def test_an_operation_failing_on_a_good_image_is_a_500(png: bytes) -> None:
    with libvips_blocked("VipsSharpen"):
        error = raised("w:64/sh:1", png)
    assert isinstance(error, LibvipsFailure) and (error.status, error.stage) == (500, "transform")


def test_an_encoder_failing_is_a_500(png: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object) -> bytes:
        raise OSError("cannot write file as WebP (encoder returned None)")

    # Both WebP encoders: libwebp through Pillow (webp_direct), whose failure hands over to libvips' saver.
    monkeypatch.setattr(webp_direct, "encode", fails)
    with libvips_blocked("VipsForeignSaveWebp"):
        error = raised("w:64", png)
    assert isinstance(error, LibvipsFailure) and error.stage == "encode"


def test_raw_pixels_are_never_the_clients_fault(png: bytes) -> None:
    pixels = decode(png, max_pixels=50_000_000)
    with libvips_blocked("VipsSharpen"):
        error = raised("w:64/sh:1", pixels)
    assert isinstance(error, LibvipsFailure)


def test_damaged_originals_stay_422_whatever_the_stage(png: bytes) -> None:
    truncated = png[: len(png) // 2]
    for options in ("w:64", "w:64/sh:1", "w:64/rot:90"):
        assert isinstance(raised(options, truncated), CorruptImage), options
    with pytest.raises(CorruptImage):
        decode(truncated, max_pixels=50_000_000)


def failures(metrics: str) -> float:
    found = re.search(r'^imgedge_libvips_failures_total\{stage="transform"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_over_http_a_500_counted_and_uncached_then_served(tmp_path: Path, png: bytes) -> None:
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "good.png").write_bytes(png)
    (originals / "bad.png").write_bytes(png[: len(png) // 2])
    config = ProxyConfig(data_dir=tmp_path, source="filesystem", originals_dir=originals, allow_unsigned=True)
    with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as url:
        before = failures(httpx.get(url + "/metrics").text)
        with libvips_blocked("VipsSharpen"):
            failed = httpx.get(url + "/_/w:64/sh:1/good.png")
        assert failed.status_code == 500 and failed.text == "image processing failed\n"
        assert failed.headers["cache-control"] == "no-store"
        assert failures(httpx.get(url + "/metrics").text) == before + 1
        assert httpx.get(url + "/_/w:64/sh:1/good.png").status_code == 200  # nothing was cached
        damaged = httpx.get(url + "/_/w:64/bad.png")
        assert damaged.status_code == 422 and "source image" in damaged.text
