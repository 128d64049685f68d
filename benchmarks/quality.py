"""SSIMULACRA2 between a reference image and an encoded (or differently resized) one, both sRGB.

The `ssimulacra2` package reads files through Pillow; in-memory PNGs stand in for them.
"""

from __future__ import annotations

import io

import pyvips
from ssimulacra2 import compute_ssimulacra2


def _png(image: pyvips.Image) -> io.BytesIO:
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    data: bytes = image.cast("uchar").write_to_buffer(".png", compression=1)
    return io.BytesIO(data)


def score(reference: pyvips.Image, distorted: pyvips.Image | bytes) -> float:
    """100 is identical; 90 is visually lossless at 1:1, 70 high quality, 50 medium (the metric's scale)."""
    if isinstance(distorted, bytes):
        distorted = pyvips.Image.new_from_buffer(distorted, "")
    if (distorted.width, distorted.height) != (reference.width, reference.height):
        raise ValueError(
            f"sizes differ: {reference.width}x{reference.height} vs {distorted.width}x{distorted.height}"
        )
    return float(compute_ssimulacra2(_png(reference), _png(distorted)))
