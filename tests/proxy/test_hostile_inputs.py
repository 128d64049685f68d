"""Odd and hostile originals: each gets a defined outcome, never a crash, with memory bounded."""

from __future__ import annotations

import io
import resource

import pytest
import pyvips
from PIL import Image

from imgedge.errors import PublicError
from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy.pipeline.run import transform
from imgedge.url import ParseSettings, parse_options
from tests.conftest import photo

SPEC = parse_options(["w:64"], ParseSettings())


def outcome(data: bytes, fmt: str = "jpeg") -> int | pyvips.Image:
    try:
        rendered = transform(data, SPEC, fmt, max_pixels=50_000_000, settings=EncoderSettings())
    except PublicError as exc:
        return exc.status
    return pyvips.Image.new_from_buffer(rendered.body, "")


def test_truncated_webp_is_422() -> None:
    webp = photo("coffee").write_to_buffer(".webp")
    assert outcome(webp[: len(webp) // 2]) == 422


def test_random_bytes_with_an_image_name_are_415() -> None:
    assert outcome(bytes(range(256)) * 64) == 415


def test_thousands_of_gif_frames_give_the_first_one_in_bounded_memory() -> None:
    # Written with Pillow: libvips 8.14's GIF saver (Debian 12) takes minutes over 3000 frames.
    frames = [Image.new("RGB", (32, 32), (i % 256, 0, 0)) for i in range(3000)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    gif = out.getvalue()
    assert pyvips.Image.new_from_buffer(gif, "").get("n-pages") == 3000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = outcome(gif, "png")
    assert isinstance(result, pyvips.Image) and (result.width, result.height) == (32, 32)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200_000


def test_a_non_srgb_profile_is_converted() -> None:
    wide = photo("coffee", 128).icc_transform("p3", intent="perceptual")
    png = wide.write_to_buffer(".png")
    assert pyvips.Image.new_from_buffer(png, "").get_typeof("icc-profile-data") != 0
    result = outcome(png, "png")
    assert isinstance(result, pyvips.Image)
    assert result.get_typeof("icc-profile-data") == 0  # converted to sRGB, profile stripped
    reference = outcome(photo("coffee", 128).write_to_buffer(".png"), "png")
    assert isinstance(reference, pyvips.Image)
    assert (result - reference).abs().avg() < 6  # the same colours, not P3 numbers read as sRGB


@pytest.mark.parametrize("suffix", [b"PK\x03\x04" + b"\0" * 200, b"<html><script>alert(1)</script></html>"])
def test_an_image_with_another_file_appended_is_handled_as_the_image(suffix: bytes) -> None:
    polyglot = photo("coffee", 128).write_to_buffer(".jpg") + suffix
    result = outcome(polyglot)
    assert isinstance(result, pyvips.Image) and result.width == 64


def test_a_gif_header_on_png_data_is_refused() -> None:
    png = photo("coffee", 128).write_to_buffer(".png")
    assert outcome(b"GIF89a" + png[6:]) == 422
