"""Output limits: the largest variant a URL may ask for (source limits apply where the bytes are read)."""

from __future__ import annotations

from imgedge.url.errors import OptionError
from imgedge.url.spec import TransformSpec


def check_output_limits(spec: TransformSpec, *, max_width: int, max_height: int) -> None:
    if spec.width > max_width:
        raise OptionError("width", f"{spec.width} exceeds the maximum of {max_width}")
    if spec.height > max_height:
        raise OptionError("height", f"{spec.height} exceeds the maximum of {max_height}")
