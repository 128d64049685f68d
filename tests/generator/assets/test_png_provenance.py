from __future__ import annotations

import pytest
import pyvips

from imgedge.generator.assets.png_provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    XMP_KEYWORD,
    PngError,
    embed,
    read_text,
)


def plain_png() -> bytes:
    png: bytes = pyvips.Image.black(8, 4, bands=3).write_to_buffer(".png")
    return png


def test_round_trip_keeps_the_image_decodable() -> None:
    png = embed(plain_png(), {"imgedge:prompt": "café ☕"}, TRAINED_ALGORITHMIC_MEDIA)
    assert read_text(png)["imgedge:prompt"] == "café ☕"
    assert 'DigitalSourceType="' + TRAINED_ALGORITHMIC_MEDIA in read_text(png)[XMP_KEYWORD]
    image = pyvips.Image.new_from_buffer(png, "", fail_on="error")
    assert (image.width, image.height) == (8, 4)
    assert image.avg() == 0


def test_libvips_sees_the_xmp_packet() -> None:
    png = embed(plain_png(), {}, TRAINED_ALGORITHMIC_MEDIA)
    image = pyvips.Image.new_from_buffer(png, "")
    assert image.get_typeof("xmp-data") != 0


def test_refuses_non_png() -> None:
    with pytest.raises(PngError):
        embed(b"GIF89a....", {}, None)
