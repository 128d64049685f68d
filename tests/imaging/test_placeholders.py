from __future__ import annotations

import base64

import blurhash
import pytest
import pyvips
import thash

from imgedge.imaging.errors import CorruptImage
from imgedge.imaging.placeholders import placeholders_from_bytes
from tests.conftest import photo


def test_placeholders_of_a_photo_decode_to_its_colours_and_shape() -> None:
    image = photo("coffee")  # 600x400
    found = placeholders_from_bytes(image.write_to_buffer(".png"), max_pixels=10**8)
    assert (found.width, found.height) == (600, 400)
    hashed = list(base64.b64decode(found.thumbhash))
    assert thash.thumb_hash_to_approximate_aspect_ratio(hashed) == pytest.approx(1.5, abs=0.15)
    r, g, b, _ = thash.thumb_hash_to_average_rgba(hashed)
    average = [int(found.average_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    assert [r, g, b] == pytest.approx(average, abs=0.1)
    assert len(blurhash.decode(found.blurhash, 8, 8)) == 8
    lqip = pyvips.Image.new_from_buffer(base64.b64decode(found.lqip.split(",", 1)[1]), "")
    assert (lqip.width, lqip.height) == (16, 11)


def test_dominant_is_the_commonest_colour_not_the_mean() -> None:
    red = pyvips.Image.black(90, 90).new_from_image([200, 20, 20]).copy(interpretation="srgb")
    blue = pyvips.Image.black(10, 90).new_from_image([20, 20, 200]).copy(interpretation="srgb")
    found = placeholders_from_bytes(red.join(blue, "horizontal").write_to_buffer(".png"), max_pixels=10**8)
    assert found.dominant_color == "#c81414"
    assert found.average_color != found.dominant_color


def test_alpha_and_garbage() -> None:
    rgba = photo("chelsea").bandjoin(128).copy(interpretation="srgb")
    assert placeholders_from_bytes(rgba.write_to_buffer(".png"), max_pixels=10**8).thumbhash
    with pytest.raises(CorruptImage):
        placeholders_from_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, max_pixels=10**8)
