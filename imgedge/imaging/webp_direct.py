"""WebP straight through libwebp's one-call encoder (Pillow's binding) for the common variant.

libvips' WebP saver spends ~1-2.5 ms more CPU than libwebp itself on a 256-960 px variant (7-15% of the
encode on the benchmark's host; benchmarks/results/profile.md, "The fourteenth round") and writes the same
bytes. So an 8-bit RGB or RGBA image of up to 1 MP, encoded with only a quality and an effort and with no
metadata but an optional XMP packet, is handed to libwebp through Pillow; everything else goes to libvips.

The output must stay libvips' output byte for byte: cache entries made by either path are interchangeable,
and encoders.md's measurements hold for both. So this path is used only while a probe image encodes to the
same bytes both ways (once per process): a Pillow whose libwebp differs from the one inside libvips (Debian's
libvips, a future wheel) turns it off by itself.
"""

from __future__ import annotations

import functools
import io
import random
from collections.abc import Mapping
from typing import Any

import pyvips

# Above this the copies into Pillow's image (a fresh 4 bytes per pixel) cost more than libvips' overhead.
MAX_PIXELS = 1 << 20
_OPTIONS = frozenset({"Q", "effort"})
_MODES = {3: "RGB", 4: "RGBA"}


def takes(image: pyvips.Image, keep: str, options: Mapping[str, Any]) -> bool:
    """Whether `image` with these saver options and metadata policy can go through libwebp directly."""
    return (
        keep in ("none", "xmp")
        and _OPTIONS.issuperset(options)
        and image.format == "uchar"
        and image.bands in _MODES
        and image.interpretation == "srgb"
        and image.width * image.height <= MAX_PIXELS
        and _single_page(image)
        and matches_libvips()
    )


def encode(image: pyvips.Image, keep: str, options: Mapping[str, Any]) -> bytes:
    """What libvips' `webpsave_buffer` would write for an image that `takes` accepted."""
    from PIL import Image

    mode = _MODES[image.bands]
    xmp = image.get("xmp-data") if keep == "xmp" and image.get_typeof("xmp-data") else b""
    picture = Image.frombuffer(mode, (image.width, image.height), image.write_to_memory(), "raw", mode, 0, 1)
    out = io.BytesIO()
    # libvips' other WebP defaults are libwebp's and Pillow's too: lossy, alpha quality 100, not exact.
    picture.save(out, "WEBP", quality=options.get("Q", 75), method=options.get("effort", 4), xmp=xmp)
    return out.getvalue()


def _single_page(image: pyvips.Image) -> bool:
    # libvips writes an animation when the page height is less than the image's; that stays with libvips.
    return not image.get_typeof("page-height") or image.get("page-height") == image.height


@functools.cache
def matches_libvips() -> bool:
    """True when this Pillow's libwebp writes libvips' bytes, on a probe with texture, alpha and XMP."""
    try:
        from PIL import features
    except ImportError:  # a venv with pyvips alone (the Makefile's check of the pyvips install recipe)
        return False
    if not features.check("webp"):
        return False
    # Noise over a ramp: every encoder decision (modes, filters, alpha) gets exercised on a tiny image.
    ramp = bytes(((x + y) // 2 + random.randrange(64)) % 256 for y in range(64) for x in range(96 * 4))
    rgba = pyvips.Image.new_from_memory(ramp, 96, 64, 4, "uchar").copy(interpretation="srgb")
    rgb = pyvips.Image.new_from_memory(ramp[: 96 * 64 * 3], 96, 64, 3, "uchar").copy(interpretation="srgb")
    rgba.set_type(pyvips.GValue.blob_type, "xmp-data", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    probes = [(rgb, "none"), (rgba, "xmp")]
    try:
        return all(
            encode(probe, keep, {"Q": 80, "effort": 2})
            == probe.write_to_buffer(".webp", Q=80, effort=2, keep=keep)
            for probe, keep in probes
        )
    except (pyvips.Error, OSError, ValueError):  # an old libvips without `keep`, a Pillow without WebP
        return False
