"""Output limits: the largest variant a URL may ask for (source limits apply where the bytes are read).

Width and height are checked from the URL alone; the output's pixel count, when the URL leaves one side to
the source's aspect ratio, once the source's header is known (imgedge.proxy.security.cost)."""

from __future__ import annotations

from imgedge.url.errors import OptionError
from imgedge.url.spec import TransformSpec


def check_output_limits(
    spec: TransformSpec, *, max_width: int, max_height: int, max_pixels: int | None = None
) -> None:
    if spec.width > max_width:
        raise OptionError("width", f"{spec.width} exceeds the maximum of {max_width}")
    if spec.height > max_height:
        raise OptionError("height", f"{spec.height} exceeds the maximum of {max_height}")
    if max_pixels is not None and spec.width and spec.height:
        check_result_pixels(spec.width, spec.height, max_pixels)


def check_result_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise OptionError(
            "size",
            f"{width}x{height} is {width * height} pixels, "
            f"more than IMGEDGE_MAX_RESULT_PIXELS ({max_pixels})",
        )
