"""Errors about images: the data a client sent or pointed at (4xx), and libvips failing on good data (5xx)."""

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


class LibvipsFailure(PublicError):
    """libvips failed on input that decodes: the server's fault, so never a 4xx. The library's own message
    goes to the log (`detail`), not to the client."""

    status = 500
    default_message = "image processing failed"

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__()
        self.stage = stage  # decode | transform | encode | canonicalize
        self.detail = detail


class LibvipsUnsupported(RuntimeError):
    """The loaded libvips lacks something imgedge uses; the message says what and how to fix it. Here,
    with no libvips import, so the command line can report it without the server extra."""
