"""When an animated source stays animated: GIF or WebP output, and only operations that apply per frame."""

from __future__ import annotations

from dataclasses import replace

import pyvips

from imgedge.formats import BY_NAME
from imgedge.imaging.inspect import Header
from imgedge.proxy.pipeline.geometry import Box
from imgedge.url.spec import DEFAULT_BACKGROUND, ORIG, TransformSpec

MAX_FRAMES = 1000
_PLAIN = TransformSpec()


def keeps_animation(header: Header, spec: TransformSpec, output_format: str, *, max_pixels: int) -> bool:
    # Crops, pads, rotations and filters would need a per-frame pass; those requests get the first frame.
    # Only what a plain resize and its encoding take may differ from the defaults.
    resize_only = replace(
        spec, width=0, height=0, fit="inside", enlarge=False, quality=0, format="auto", strip=True,
        expires=0, max_bytes=0, background=DEFAULT_BACKGROUND,
    )  # fmt: skip
    per_frame = (
        spec.fit in ("inside", "force") and resize_only == _PLAIN and ORIG not in (spec.width, spec.height)
    )
    frames_fit = header.pages <= MAX_FRAMES and header.pages * header.width * header.height <= max_pixels
    animates = output_format in BY_NAME and BY_NAME[output_format].animation  # not `legacy`
    return header.pages > 1 and animates and per_frame and frames_fit


def load_animated(data: bytes, frame: Box) -> pyvips.Image:
    """All frames, each scaled to `frame`, stacked vertically with `page-height` set, as libvips expects."""
    return pyvips.Image.thumbnail_buffer(
        data, frame.width, height=frame.height, size="force", option_string="n=-1,fail_on=error"
    )
