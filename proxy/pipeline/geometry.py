"""Pure arithmetic for resize modes: from source size and spec to scaled size plus a final crop or pad."""

from __future__ import annotations

import math
from dataclasses import dataclass

from imgedge.url.spec import TransformSpec

_COMPASS: dict[str, tuple[float, float]] = {
    "ce": (0.5, 0.5), "no": (0.5, 0.0), "so": (0.5, 1.0), "ea": (1.0, 0.5), "we": (0.0, 0.5),
    "noea": (1.0, 0.0), "nowe": (0.0, 0.0), "soea": (1.0, 1.0), "sowe": (0.0, 1.0),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Box:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Plan:
    scaled: Box
    crop: Box | None = None  # cut from the scaled image, placed by gravity
    pad: Box | None = None  # canvas the scaled image is placed on, by gravity


def _round(x: float) -> int:
    return max(1, math.floor(x + 0.5))


def _aspect_box(width: int, height: int, aw: int, ah: int) -> Box:
    """The largest box of aspect aw:ah inside width x height."""
    if width * ah > height * aw:
        return Box(min(width, _round(height * aw / ah)), height)
    return Box(width, min(height, _round(width * ah / aw)))


def plan(src_w: int, src_h: int, spec: TransformSpec) -> Plan:
    w, h = spec.width, spec.height
    source = Box(src_w, src_h)
    if not w and not h:
        if spec.aspect is not None:
            return Plan(source, crop=_aspect_box(src_w, src_h, *spec.aspect))
        return Plan(source)
    if spec.fit == "force":
        return Plan(Box(w, h))
    if spec.fit == "cover":
        scale = max(w / src_w, h / src_h)
        if not spec.enlarge:
            scale = min(scale, 1.0)
        # The side that binds the scale must land exactly on the target, whatever float rounding says.
        sw = w if scale == w / src_w else _round(src_w * scale)
        sh = h if scale == h / src_h else _round(src_h * scale)
        crop = _aspect_box(sw, sh, w, h)
        crop = Box(min(crop.width, w), min(crop.height, h))
        return Plan(Box(sw, sh), crop=None if crop == Box(sw, sh) else crop)
    scale = min(w / src_w if w else math.inf, h / src_h if h else math.inf)
    if not spec.enlarge:
        scale = min(scale, 1.0)
    sw = w if scale == (w / src_w if w else None) else _round(src_w * scale)
    sh = h if scale == (h / src_h if h else None) else _round(src_h * scale)
    scaled = Box(sw, sh)
    if spec.fit == "pad" and (sw, sh) != (w, h):
        return Plan(scaled, pad=Box(w, h))
    return Plan(scaled)


def offset(outer: Box, inner: Box, gravity: str, focus: tuple[float, float] | None) -> tuple[int, int]:
    """Top-left of `inner` within `outer` for a compass gravity or a focal point (0..1 of `outer`)."""
    free_x, free_y = outer.width - inner.width, outer.height - inner.height
    if gravity == "fp" and focus is not None:
        x = math.floor(focus[0] * outer.width - inner.width / 2 + 0.5)
        y = math.floor(focus[1] * outer.height - inner.height / 2 + 0.5)
    else:
        fx, fy = _COMPASS.get(gravity, (0.5, 0.5))
        x, y = math.floor(free_x * fx), math.floor(free_y * fy)
    lo_x, hi_x = sorted((0, free_x))
    lo_y, hi_y = sorted((0, free_y))
    return min(max(x, lo_x), hi_x), min(max(y, lo_y), hi_y)
