"""Bring any decoded image to 8-bit sRGB (with alpha when present), honouring embedded ICC profiles."""

from __future__ import annotations

import contextlib

import pyvips


def to_srgb(image: pyvips.Image, *, keep_profile: bool) -> pyvips.Image:
    if not keep_profile and image.get_typeof("icc-profile-data"):
        # An unusable embedded profile: the plain conversion below is the best we can do.
        with contextlib.suppress(pyvips.Error):
            image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    if image.interpretation not in ("srgb",) or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if not keep_profile and image.get_typeof("icc-profile-data"):
        image = image.copy()
        image.remove("icc-profile-data")
    return image
