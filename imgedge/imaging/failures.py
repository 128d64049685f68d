"""Whose fault a libvips error is: input that does not decode on its own is the client's (422), anything
else is the library's (500, logged with its message).

libvips decodes lazily, so a damaged file can fail in whichever operation first pulls its pixels, and an
operation the library cannot do fails just the same way; the error text does not say which. So the
question is settled on the error path only, by decoding the input again, alone.
"""

from __future__ import annotations

import logging
from typing import Any

import pyvips

from imgedge.errors import PublicError
from imgedge.imaging.errors import CorruptImage, LibvipsFailure
from imgedge.imaging.libvips import version_text

log = logging.getLogger("imgedge.imaging")


def decodes(data: bytes, *, all_pages: bool = False) -> bool:
    """Every pixel of `data` decodes under the pipeline's own strictness (fail_on=error), streaming."""
    options: dict[str, Any] = {"access": "sequential", "fail_on": "error"}
    if all_pages:
        options["n"] = -1
    try:
        pyvips.Image.new_from_buffer(data, "", **options).avg()
    except pyvips.Error:
        return False
    return True


def blame(exc: pyvips.Error, data: bytes | None, *, stage: str, all_pages: bool = False) -> PublicError:
    """The error to raise for `exc`. `data` is the encoded input when it may be at fault; None when the
    pixels had already been decoded (raw pixels, a model's output, a failure while encoding)."""
    detail = " ".join(str(exc).split())
    if data is not None and not decodes(data, all_pages=all_pages):
        return CorruptImage(public_reason(detail))
    log.error(
        "libvips %s failed on an image that decodes (%s): %s", version_text(), stage, detail,
        extra={"fields": {"stage": stage, "libvips_error": detail, "libvips": version_text()}},
    )  # fmt: skip
    return LibvipsFailure(stage, detail)


def public_reason(detail: str) -> str:
    lowered = detail.lower()
    if "truncat" in lowered or "premature" in lowered or "end of" in lowered:
        return "source image is truncated"
    return "source image could not be decoded"
