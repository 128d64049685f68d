"""Client hints (Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, Save-Data) → a few buckets → a plain spec.

Raw header values never reach a cache key: each hint is parsed, bounded and rounded to a bucket here, and
the spec they resolve to is what keys are built from (so `w:auto` answered with a 640 px hint shares its
entry with `w:640`). The Varnish VCL in deploy/ rounds to the same buckets; see docs/architecture.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from imgedge.url.parse import fold_aspect
from imgedge.url.spec import QUALITY_LEVELS, TransformSpec

# Widths in device pixels a `w:auto` image is rounded up to: the common layout widths times 1x-3x.
WIDTH_BUCKETS = (160, 320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560, 3840)
DPR_BUCKETS = (1.0, 1.5, 2.0, 3.0, 4.0)
SAVE_DATA_TARGET = QUALITY_LEVELS["low"]
_MAX_HINT_CHARS = 16  # a hint is a short number; anything longer is ignored, never parsed

ACCEPT_CH = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width"
DPR_HEADER = "Sec-CH-DPR"
WIDTH_HEADERS = ("Sec-CH-Width", "Sec-CH-Viewport-Width")
SAVE_DATA_HEADER = "Save-Data"


@dataclass(frozen=True, slots=True)
class ClientHints:
    """Bucketed hints: None where the client sent none (or nothing usable)."""

    dpr: float | None = None
    width: int | None = None  # of the image, in device pixels (Sec-CH-Width)
    viewport_width: int | None = None  # in CSS pixels
    save_data: bool = False


NO_HINTS = ClientHints()


def _number(raw: str | None) -> float | None:
    if raw is None or len(raw) > _MAX_HINT_CHARS:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def dpr_bucket(value: float, max_dpr: float = DPR_BUCKETS[-1]) -> float:
    """The nearest bucket at or below max_dpr (1.3 → 1.5, 2.6 → 3, 7 → the maximum)."""
    allowed = [b for b in DPR_BUCKETS if b <= max_dpr] or [1.0]
    return min(allowed, key=lambda b: (abs(b - value), b))


def width_bucket(value: float) -> int:
    """The smallest bucket that is at least as wide (never a smaller image than asked for), capped."""
    for bucket in WIDTH_BUCKETS:
        if value <= bucket:
            return bucket
    return WIDTH_BUCKETS[-1]


def parse_hints(
    *, dpr: str | None, width: str | None, viewport_width: str | None, save_data: str | None
) -> ClientHints:
    dpr_value, width_value, viewport_value = _number(dpr), _number(width), _number(viewport_width)
    return ClientHints(
        dpr=dpr_bucket(dpr_value) if dpr_value is not None else None,
        width=width_bucket(width_value) if width_value is not None else None,
        viewport_width=width_bucket(viewport_value) if viewport_value is not None else None,
        save_data=save_data is not None and save_data.strip().lower() == "on",
    )


@dataclass(frozen=True, slots=True)
class Resolved:
    spec: TransformSpec  # plain: no `auto` width or dpr left
    vary: tuple[str, ...]  # request headers the response depends on
    dpr: float | None  # the device pixel ratio applied (for Content-DPR)


def resolve(
    spec: TransformSpec,
    hints: ClientHints,
    *,
    honour_hints: bool,
    auto_quality_default: bool,
    max_dpr: float = DPR_BUCKETS[-1],
) -> Resolved:
    """The spec a transform runs with. Without `honour_hints`, `auto` sizes take their fallbacks."""
    vary: list[str] = []
    if auto_quality_default and spec.format == "auto" and not (spec.quality or spec.quality_target):
        spec = replace(spec, quality_target=QUALITY_LEVELS["good"])
    if honour_hints and spec.quality_target:
        vary.append(SAVE_DATA_HEADER)
        if hints.save_data:
            spec = replace(spec, quality_target=min(spec.quality_target, SAVE_DATA_TARGET))
    applied_dpr = None
    if spec.width_auto:
        width = spec.width
        if honour_hints:
            vary += [WIDTH_HEADERS[0], WIDTH_HEADERS[1], DPR_HEADER]
            width = _hinted_width(hints, max_dpr) or width
        spec = replace(spec, width=width, width_auto=False)
        if spec.aspect is not None and spec.width:
            spec = replace(spec, height=fold_aspect(spec.width, spec.aspect), aspect=None)
    if spec.dpr_auto:
        spec = replace(spec, dpr_auto=False)
        if honour_hints:
            vary.append(DPR_HEADER)
            if hints.dpr is not None and hints.dpr != 1.0:
                applied_dpr = min(hints.dpr, dpr_bucket(max_dpr))
                spec = replace(
                    spec, width=_scaled(spec.width, applied_dpr), height=_scaled(spec.height, applied_dpr)
                )
            elif hints.dpr is not None:
                applied_dpr = 1.0
    return Resolved(spec, tuple(vary), applied_dpr)


def _hinted_width(hints: ClientHints, max_dpr: float) -> int | None:
    if hints.width is not None:
        return hints.width
    if hints.viewport_width is not None:
        # A full-width image at most: the viewport in device pixels, rounded up to a bucket.
        dpr = min(hints.dpr or 1.0, max_dpr)
        return width_bucket(hints.viewport_width * dpr)
    return None


def _scaled(side: int, dpr: float) -> int:
    return math.floor(side * dpr + 0.5)  # rounds as `dpr:N` in a URL does
