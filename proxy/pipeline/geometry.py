"""Pure arithmetic for resize modes: from source size and spec to scaled size plus a final crop or pad."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from imgedge.url.spec import ORIG, TransformSpec

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


def resolve(spec: TransformSpec, src_w: int, src_h: int, origin: tuple[int, int] = (0, 0)) -> TransformSpec:
    """The spec with what depends on the source settled: `orig` sides, an adaptive box, `auto` fit, and a
    focal region (source pixels, before the `origin` of a trim or crop) as a focal point."""
    w = src_w if spec.width == ORIG else spec.width
    h = src_h if spec.height == ORIG else spec.height
    if spec.adaptive and w and h and (src_w - src_h) * (w - h) < 0:
        w, h = h, w
    fit = spec.fit
    if fit == "auto":
        fit = "cover" if (src_w >= src_h) == (w >= h) else "inside"
        if fit == "inside" and spec.extend:
            fit = "pad"
    gravity, focus = spec.gravity, spec.focus
    if gravity == "fr" and spec.region is not None:
        left, top, right, bottom = spec.region
        x = ((left + right) / 2 - origin[0]) / src_w
        y = ((top + bottom) / 2 - origin[1]) / src_h
        gravity, focus = "fp", (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))
    if (w, h, fit, gravity, focus) == (spec.width, spec.height, spec.fit, spec.gravity, spec.focus):
        return spec
    return replace(spec, width=w, height=h, fit=fit, gravity=gravity, focus=focus, adaptive=False)


def _exact(target: int, scale: float, side: int) -> int:
    # The side that binds the scale must land exactly on the target, whatever float rounding says.
    return target if scale == target / side else _round(side * scale)


def _covering(src_w: int, src_h: int, spec: TransformSpec) -> Plan:
    w, h = spec.width, spec.height
    scale = max(w / src_w, h / src_h)
    if not spec.enlarge:
        scale = min(scale, 1.0)
    scaled = Box(_exact(w, scale, src_w), _exact(h, scale, src_h))
    if spec.fit == "outside":
        return Plan(scaled)
    if spec.fit == "clamp":
        crop = Box(min(scaled.width, w), min(scaled.height, h))
    else:
        box = _aspect_box(scaled.width, scaled.height, w, h)
        crop = Box(min(box.width, w), min(box.height, h))
    pad = Box(w, h) if spec.extend and crop != Box(w, h) else None
    return Plan(scaled, crop=None if crop == scaled else crop, pad=pad)


def plan(src_w: int, src_h: int, spec: TransformSpec) -> Plan:
    """`spec` as `resolve` leaves it: no `orig`, `auto` or focal region left."""
    w, h = spec.width, spec.height
    source = Box(src_w, src_h)
    if not w and not h:
        if spec.aspect is not None:
            return Plan(source, crop=_aspect_box(src_w, src_h, *spec.aspect))
        return Plan(source)
    if spec.fit == "force":
        return Plan(Box(w, h))
    if spec.fit in ("cover", "clamp", "outside"):
        return _covering(src_w, src_h, spec)
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
