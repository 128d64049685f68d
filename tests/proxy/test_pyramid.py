"""The resolution pyramid of raw-pixel originals: which levels exist, which one a variant starts from, and
that starting from a level renders the same variant as starting from the full-size original."""

from __future__ import annotations

import json

import pytest
import pyvips

from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy.pipeline.decoded import DecodedImage, decode, with_reductions
from imgedge.proxy.pipeline.run import transform
from imgedge.url import ParseSettings, parse_options

MAX_PIXELS = 50_000_000


def _png(width: int, height: int) -> bytes:
    image = pyvips.Image.xyz(width, height).extract_band(0).cast("uchar")
    return bytes(image.bandjoin([image, image]).copy(interpretation="srgb").write_to_buffer(".png"))


def test_a_square_original_keeps_halvings_down_to_64_px(photo_png: bytes) -> None:
    decoded = decode(photo_png, max_pixels=MAX_PIXELS, pyramid=True)
    assert [(lv.width, lv.height) for lv in decoded.levels] == [
        (1024, 1024), (512, 512), (256, 256), (128, 128), (64, 64),
    ]  # fmt: skip
    assert len(decoded.pixels) == sum(lv.width * lv.height * 3 for lv in decoded.levels)
    bare = decode(photo_png, max_pixels=MAX_PIXELS)
    assert bare.reductions == () and with_reductions(bare) == decoded


@pytest.mark.parametrize(
    ("size", "levels"), [((900, 600), [(450, 300), (225, 150)]), ((901, 600), []), ((128, 100), [])]
)
def test_only_exact_halvings_are_kept(size: tuple[int, int], levels: list[tuple[int, int]]) -> None:
    decoded = decode(_png(*size), max_pixels=MAX_PIXELS, pyramid=True)
    assert [(lv.width, lv.height) for lv in decoded.reductions] == levels


def test_a_variant_starts_from_the_smallest_level_at_least_twice_its_size(photo_png: bytes) -> None:
    bare = decode(photo_png, max_pixels=MAX_PIXELS)
    assert bare.lacks_reduction_for(256, 256, 2.0) and not bare.lacks_reduction_for(257, 257, 2.0)
    assert not bare.lacks_reduction_for(10, 10, 0)
    decoded = with_reductions(bare)
    assert not decoded.lacks_reduction_for(10, 10, 2.0)
    assert decoded.level_for(400, 400, 2.0).width == 1024
    assert decoded.level_for(256, 256, 2.0).width == 512
    assert decoded.level_for(255, 100, 2.0).width == 512
    assert decoded.level_for(100, 100, 2.0).width == 256
    assert decoded.level_for(10, 10, 2.0).width == 64
    assert decoded.level_for(100, 100, 0).width == 1024  # pyramid off
    assert decoded.level_for(400, 400, 1.0).width == 512


def test_geometry_round_trips_and_reads_entries_from_before_the_pyramid(photo_png: bytes) -> None:
    decoded = decode(photo_png, max_pixels=MAX_PIXELS, pyramid=True)
    again = DecodedImage.from_geometry(decoded.pixels, json.loads(json.dumps(decoded.geometry())))
    assert again == decoded
    old = DecodedImage.from_geometry(decoded.pixels[: 1024 * 1024 * 3], [1024, 1024, 3])
    assert old.reductions == () and old.level_for(100, 100, 2.0).width == 1024


@pytest.mark.parametrize("options", ["w:200", "w:100/h:100/fit:cover", "w:64/f:webp", "w:300/h:300/fit:pad"])
def test_variants_from_a_level_look_like_variants_from_the_original(photo_png: bytes, options: str) -> None:
    spec = parse_options(options.split("/"), ParseSettings())
    decoded = decode(photo_png, max_pixels=MAX_PIXELS, pyramid=True)
    settings = EncoderSettings()
    direct = transform(photo_png, spec, "png", max_pixels=MAX_PIXELS, settings=settings)
    from_level = transform(decoded, spec, "png", max_pixels=MAX_PIXELS, settings=settings, level_ratio=2.0)
    assert (direct.width, direct.height) == (from_level.width, from_level.height)
    a = pyvips.Image.new_from_buffer(direct.body, "")
    b = pyvips.Image.new_from_buffer(from_level.body, "")
    assert (a - b).abs().avg() < 2.0


def test_transparent_pixels_do_not_bleed_into_reductions() -> None:
    # Left half: fully transparent but red underneath; right half: opaque green.
    red = pyvips.Image.black(128, 128).new_from_image([255, 0, 0, 0])
    green = pyvips.Image.black(128, 128).new_from_image([0, 255, 0, 255])
    image = red.join(green, "horizontal").cast("uchar").copy(interpretation="srgb")
    decoded = decode(bytes(image.write_to_buffer(".png")), max_pixels=MAX_PIXELS, pyramid=True)
    level = decoded.to_vips(decoded.reductions[0])
    visible = level.extract_band(3) > 0
    red_where_visible = visible.ifthenelse(level.extract_band(0), 0)
    assert red_where_visible.max() == 0
