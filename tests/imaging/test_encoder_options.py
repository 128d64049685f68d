"""The format table's saver options reach libvips: q:auto's, and those of small q:auto variants only."""

from __future__ import annotations

import pytest
import pyvips

from imgedge.formats import SMALL_SIDE
from imgedge.imaging.encode import EncoderSettings, encode, metadata_options
from tests.conftest import photo


@pytest.mark.parametrize(("side", "sharp_yuv"), [(SMALL_SIDE, True), (SMALL_SIDE + 1, False)])
def test_small_q_auto_webp_variants_get_sharp_yuv(side: int, sharp_yuv: bool) -> None:
    image: pyvips.Image = photo("chelsea").thumbnail_image(side).copy_memory()  # landscape: width is longest
    settings = EncoderSettings()
    stripped = metadata_options("webp", "none")  # `keep` from libvips 8.15, `strip` before
    effort = settings.effort_for("webp")  # the format table's default
    plain = image.write_to_buffer(".webp", Q=70, effort=effort, **stripped)
    sharp = image.write_to_buffer(".webp", Q=70, effort=effort, smart_subsample=True, **stripped)
    assert plain != sharp
    auto = encode(image, "webp", quality=70, strip=True, settings=settings, auto=True)
    assert auto == (sharp if sharp_yuv else plain)
    assert (
        encode(image, "webp", quality=70, strip=True, settings=settings) == plain
    )  # fixed quality: as peers


def _av1_chroma_subsampling(avif: bytes) -> tuple[int, int]:
    """(x, y) from the AV1 codec configuration box: (1, 1) is 4:2:0, (0, 0) 4:4:4."""
    at = avif.index(b"av1C") + 4
    flags = avif[at + 2]  # tier, high bit depth, twelve bit, monochrome, subsampling x, subsampling y, ...
    return (flags >> 3) & 1, (flags >> 2) & 1


@pytest.mark.parametrize(("side", "full_chroma"), [(SMALL_SIDE, True), (SMALL_SIDE + 1, False)])
def test_small_q_auto_avif_variants_keep_full_resolution_chroma(side: int, full_chroma: bool) -> None:
    image: pyvips.Image = photo("chelsea").thumbnail_image(side).copy_memory()
    settings = EncoderSettings()
    auto = encode(image, "avif", quality=60, strip=True, settings=settings, auto=True)
    assert _av1_chroma_subsampling(auto) == ((0, 0) if full_chroma else (1, 1))
    fixed = encode(image, "avif", quality=60, strip=True, settings=settings)
    assert _av1_chroma_subsampling(fixed) == (1, 1)  # fixed quality: as peers, whatever the size


def test_the_encoder_fingerprint_covers_every_kind_of_encode() -> None:
    base = EncoderSettings()
    assert base.options("webp", 70, auto=True, small=True) != base.options("webp", 70, auto=True)
    assert base.version == EncoderSettings().version
    assert base.version != EncoderSettings(effort={"webp": 6}).version
