"""When an animated source stays animated: GIF or WebP output, and only operations that apply per frame."""

from __future__ import annotations

import pyvips

from imgedge.formats import BY_NAME
from imgedge.imaging.inspect import Header
from imgedge.proxy.pipeline.geometry import Box
from imgedge.url.spec import TransformSpec

MAX_FRAMES = 1000


def keeps_animation(header: Header, spec: TransformSpec, output_format: str, *, max_pixels: int) -> bool:
    # Crops, pads, rotations and filters would need a per-frame pass; those requests get the first frame.
    per_frame = (
        spec.crop is None and not spec.rotate and not spec.flip and not spec.flop and spec.aspect is None
        and spec.fit in ("inside", "force") and not spec.blur and not spec.sharpen
    )  # fmt: skip
    frames_fit = header.pages <= MAX_FRAMES and header.pages * header.width * header.height <= max_pixels
    animates = output_format in BY_NAME and BY_NAME[output_format].animation  # not `legacy`
    return header.pages > 1 and animates and per_frame and frames_fit


def load_animated(data: bytes, frame: Box) -> pyvips.Image:
    """All frames, each scaled to `frame`, stacked vertically with `page-height` set, as libvips expects."""
    return pyvips.Image.thumbnail_buffer(
        data, frame.width, height=frame.height, size="force", option_string="n=-1,fail_on=error"
    )
