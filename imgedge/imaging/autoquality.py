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
_ESTIMATE = {"webp": (86, 1.0), "avif": (72, 1.2), "jpeg": (86, 1.0)}
_LOWEST, _HIGHEST = 10, 100
# The search stops when the bracket is this narrow. 1 (exact) rather than 2 costs one more trial encode in
# the background and saves up to 5% of the bytes of an image whose threshold fell inside the bracket.
_STEP = 1


@dataclass(frozen=True, slots=True)
class Learned:
    quality: int
    score: float  # SSIMULACRA2 of the chosen quality
    encodes: int  # how many trial encodes the search cost
    tuning: str = ""  # the format's q:auto tuning chosen with the quality ("": none)


@dataclass(frozen=True, slots=True)
class _Trial:
    quality: int
    score: float
    size: int


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
    """The lowest quality whose encoding scores at least `target`, with whichever of the format's q:auto
    tunings makes that encoding smallest. Bisections, since score and size rise with the quality; `check`
    runs before each trial encode (a deadline or a cancellation)."""
    reference = metric.Reference(linear_planes(image))
    encodes = 0

    def attempt(quality: int, tuning: str) -> bytes:
        nonlocal encodes
        check()
        encodes += 1
        return encode(image, fmt, quality=quality, strip=True, settings=settings, auto=True, tuning=tuning)

    def trial(quality: int, tuning: str, encoded: bytes | None = None) -> _Trial:
        encoded = encoded if encoded is not None else attempt(quality, tuning)
        return _Trial(quality, reference.score(linear_planes(_decode(encoded, image.bands))), len(encoded))

    def lowest_meeting(tuning: str, ceiling: _Trial | None) -> _Trial:
        low, high = _LOWEST, ceiling.quality if ceiling else _HIGHEST
        best = ceiling  # invariant: `high` meets the target, or is the most there is
        while high - low > _STEP:
            middle = trial((low + high) // 2, tuning)
            if middle.score >= target:
                high, best = middle.quality, middle
            else:
                low = middle.quality
        return best if best is not None else trial(high, tuning)

    def highest_smaller(tuning: str, size: int) -> _Trial | None:
        """The highest quality whose encoding is smaller than `size`, scored; found by size alone, because
        an encode costs a fraction of a score."""
        low, high, found = _LOWEST, _HIGHEST, None
        while low <= high:
            middle = (low + high) // 2
            encoded = attempt(middle, tuning)
            if len(encoded) < size:
                low, found = middle + 1, (middle, encoded)
            else:
                high = middle - 1
        return trial(found[0], tuning, found[1]) if found is not None else None

    best, chosen = lowest_meeting("", None), ""
    for tuning in BY_NAME[fmt].auto_quality_tunings:
        # The tuning can win only at a quality below which it is smaller than the best so far; if that
        # quality misses the target, every lower one does too.
        ceiling = highest_smaller(tuning, best.size)
        if ceiling is not None and ceiling.score >= target:
            # Sizes rise with the quality only nearly always: the smaller of the two that meet the target.
            best, chosen = min(lowest_meeting(tuning, ceiling), ceiling, key=lambda t: t.size), tuning
    return Learned(best.quality, round(best.score, 2), encodes, chosen)


def _decode(encoded: bytes, bands: int) -> pyvips.Image:
    decoded = pyvips.Image.new_from_buffer(encoded, "")
    return decoded.extract_band(0, n=bands) if decoded.bands > bands else decoded
