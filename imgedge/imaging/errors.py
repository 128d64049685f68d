"""Errors about the image data itself: what a client sent or pointed at, never the library's own failure."""

from __future__ import annotations

from imgedge.errors import PublicError


class ImagingError(PublicError):
    status = 422
    default_message = "image data is corrupt"


class SourceTooLarge(ImagingError):
    status = 413
    default_message = "source image too large"


class UnsupportedImage(ImagingError):
    status = 415
    default_message = "unsupported image format"


class CorruptImage(ImagingError):
    status = 422
    default_message = "image data is corrupt"


class LibvipsUnsupported(RuntimeError):
    """The loaded libvips lacks something imgedge uses; the message says what and how to fix it. Here,
    with no libvips import, so the command line can report it without the server extra."""
