"""Metadata as imgedge means it on every libvips: `keep` from 8.15, `strip` plus removal by hand on 8.14."""

from __future__ import annotations

import pytest
import pyvips

from imgedge.formats import FORMATS
from imgedge.imaging.encode import EncoderSettings, encode, metadata_options, saver_options
from tests.conftest import photo

HAS_KEEP = (pyvips.version(0), pyvips.version(1)) >= (8, 15)  # `keep` replaced the savers' `strip` in 8.15


@pytest.mark.parametrize("fmt", [f.name for f in FORMATS])
def test_metadata_option_is_the_one_this_libvips_has(fmt: str) -> None:
    assert metadata_options(fmt, "none") == ({"keep": "none"} if HAS_KEEP else {"strip": True})
    assert metadata_options(fmt, "xmp") == ({"keep": "xmp"} if HAS_KEEP else {"strip": False})
    options = saver_options(fmt, quality=0, keep="none", settings=EncoderSettings(), auto=True)
    assert options.items() >= EncoderSettings().options(fmt, 0, auto=True).items()


def tagged_source() -> pyvips.Image:
    """A JPEG as a camera leaves it: a wide-gamut profile and EXIF naming the camera."""
    image = photo("coffee", 64).icc_transform("p3", intent="perceptual", embedded=False).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "TestCam")
    source = pyvips.Image.new_from_buffer(image.write_to_buffer(".jpg"), "")
    assert source.get_typeof("icc-profile-data") and b"TestCam" in source.get("exif-data")
    return source


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png", "avif"])
def test_strip_drops_the_profile_and_exif_and_keeping_keeps_them(fmt: str) -> None:
    source, settings = tagged_source(), EncoderSettings()
    stripped_bytes = encode(source, fmt, quality=0, strip=True, settings=settings)
    stripped = pyvips.Image.new_from_buffer(stripped_bytes, "")
    kept = pyvips.Image.new_from_buffer(encode(source, fmt, quality=0, strip=False, settings=settings), "")
    assert stripped.get_typeof("icc-profile-data") == 0
    assert b"TestCam" not in stripped_bytes
    # 8.14's WebP saver adds an EXIF block of its own (resolution, orientation): none of the source's.
    if HAS_KEEP:
        assert stripped.get_typeof("exif-data") == 0
    assert kept.get_typeof("icc-profile-data") != 0
    if fmt != "png":  # libspng (Debian's 8.14) writes no EXIF into PNG; the profile is what matters there
        assert b"TestCam" in kept.get("exif-data")


def test_a_provenance_xmp_survives_strip_and_nothing_else_does() -> None:
    rdf = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + rdf + b"</x:xmpmeta>"
    for fmt in ("jpeg", "webp", "png", "avif"):
        data = encode(tagged_source(), fmt, quality=0, strip=True, settings=EncoderSettings(), xmp=xmp)
        out = pyvips.Image.new_from_buffer(data, "")
        assert out.get_typeof("xmp-data") and b"adobe:ns:meta" in out.get("xmp-data"), fmt
        assert out.get_typeof("icc-profile-data") == 0 and b"TestCam" not in data, fmt


def test_png_text_is_never_published_even_unstripped() -> None:
    # PNG text chunks of a generated original can hold its prompt ("other" metadata is never kept).
    image = photo("coffee", 32).copy()
    image.set_type(pyvips.GValue.gstr_type, "png-comment-0-prompt", "a secret prompt")
    source = pyvips.Image.new_from_buffer(image.write_to_buffer(".png"), "")
    assert any("comment" in name for name in source.get_fields())
    data = encode(source, "png", quality=0, strip=False, settings=EncoderSettings())
    assert b"a secret prompt" not in data
