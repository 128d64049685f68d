"""q:auto: the encoder quality that just meets a perceptual target, measured with SSIMULACRA2.

A search encodes the un-encoded resize at a few qualities and scores each against it; it costs seconds
of CPU (mostly the metric), so the proxy runs it once per asset, format and size class, in the background,
and answers first misses with `estimate` meanwhile. Measurements and the choice of levels: docs/quality.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyvips

from imgedge.formats import BY_NAME, SMALL_SIDE
from imgedge.imaging import ssimulacra2 as metric
from imgedge.imaging.encode import EncoderSettings, encode

# Longest output side → size class: a quality learned for one variant serves the others of its class.
SIZE_CLASSES = ((SMALL_SIDE, "xs"), (512, "s"), (1024, "m"), (2048, "l"))
LARGEST_CLASS = "xl"
# What `estimate` gives a target of 70, and how much it moves per point of target: the quality that met
# 70 on the hardest image of the calibration set at 400 px, plus a margin (docs/quality.md).
_ESTIMATE = {"webp": (86, 1.0), "avif": (68, 1.2), "jpeg": (86, 1.0)}
_LOWEST, _HIGHEST = 10, 100
# The search stops when the bracket is this narrow. 1 (exact) rather than 2 costs one more trial encode in
# the background and saves up to 5% of the bytes of an image whose threshold fell inside the bracket.
_STEP = 1


@dataclass(frozen=True, slots=True)
class Learned:
    quality: int
    score: float  # SSIMULACRA2 of the chosen quality
    encodes: int  # how many trial encodes the search cost


def has_quality(fmt: str) -> bool:
    return BY_NAME[fmt].quality_option is not None


def size_class(width: int, height: int) -> str:
    longest = max(width, height)
    for limit, name in SIZE_CLASSES:
        if longest <= limit:
            return name
    return LARGEST_CLASS


def estimate(fmt: str, target: int) -> int:
    """A conservative quality for `target` without looking at the image: first misses use it."""
    base, slope = _ESTIMATE.get(fmt, _ESTIMATE["jpeg"])
    return int(min(_HIGHEST, max(_LOWEST, round(base + slope * (target - 70)))))


def linear_planes(image: pyvips.Image) -> np.ndarray:
    """An 8-bit sRGB image (alpha flattened onto mid grey) as the linear-light planes SSIMULACRA2 reads."""
    rgb = image.flatten(background=[128, 128, 128]) if image.hasalpha() else image
    if rgb.bands == 1:
        rgb = rgb.bandjoin([rgb, rgb])
    array = np.ndarray(buffer=rgb.write_to_memory(), dtype=np.uint8, shape=(rgb.height, rgb.width, 3))
    return metric.srgb_to_linear(array)


def score(reference: pyvips.Image, encoded: bytes) -> float:
    """SSIMULACRA2 (100: identical, 70: high quality, 50: medium) of an encoding against its source."""
    return metric.ssimulacra2(linear_planes(reference), linear_planes(_decode(encoded, reference.bands)))


def search(
    image: pyvips.Image,
    fmt: str,
    target: int,
    settings: EncoderSettings,
    *,
    check: Callable[[], None] = lambda: None,
) -> Learned:
    """The lowest quality whose encoding scores at least `target`; bisection, since the
    score rises with the quality. `check` runs between trial encodes (a deadline or a cancellation)."""
    reference = metric.Reference(linear_planes(image))

    def trial_score(encoded: bytes) -> float:
        return reference.score(linear_planes(_decode(encoded, image.bands)))

    low, high = _LOWEST, _HIGHEST  # invariant: `high` meets the target, or is the most there is
    best_score, encodes = -1.0, 0
    while high - low > _STEP:
        check()
        middle = (low + high) // 2
        encoded = encode(image, fmt, quality=middle, strip=True, settings=settings, auto=True)
        trial = trial_score(encoded)
        encodes += 1
        if trial >= target:
            high, best_score = middle, trial
        else:
            low = middle
    if best_score < 0:
        encoded = encode(image, fmt, quality=high, strip=True, settings=settings, auto=True)
        best_score = trial_score(encoded)
        encodes += 1
    return Learned(high, round(best_score, 2), encodes)


def _decode(encoded: bytes, bands: int) -> pyvips.Image:
    decoded = pyvips.Image.new_from_buffer(encoded, "")
    return decoded.extract_band(0, n=bands) if decoded.bands > bands else decoded
