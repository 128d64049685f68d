"""`max_bytes`: encode, and when the body is too large, search for the highest quality that fits."""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from imgedge.formats import BY_NAME
from imgedge.imaging.encode import EncoderSettings, encode

MIN_QUALITY = 5  # below this every lossy format is mush; the smallest attempt is answered instead


def encode_within(
    image: pyvips.Image,
    fmt: str,
    *,
    quality: int,
    strip: bool,
    settings: EncoderSettings,
    max_bytes: int,
    check: Callable[[], None] = lambda: None,
    auto: bool = False,
    tuning: str = "",
    xmp: bytes | None = None,
) -> bytes:
    """The encoded image; with `max_bytes`, at the highest quality whose body fits (a binary search, so at
    most ~7 extra encodes), or the smallest attempt when even MIN_QUALITY does not fit. Formats without a
    quality setting (PNG, GIF) are encoded once."""

    def attempt_at(q: int) -> bytes:
        return encode(
            image, fmt, quality=q, strip=strip, settings=settings, auto=auto, tuning=tuning, xmp=xmp
        )

    body = attempt_at(quality)
    if not max_bytes or len(body) <= max_bytes or not BY_NAME[fmt].quality_option:
        return body
    low, high = MIN_QUALITY, (quality or settings.quality_for(fmt)) - 1
    best: bytes | None = None
    smallest = body
    while low <= high:
        check()
        middle = (low + high) // 2
        attempt = attempt_at(middle)
        smallest = min(smallest, attempt, key=len)
        if len(attempt) <= max_bytes:
            best, low = attempt, middle + 1
        else:
            high = middle - 1
    return best if best is not None else smallest
