"""Typed errors carrying an HTTP status and a short public message; one handler turns them into responses."""

from __future__ import annotations


class ProxyError(Exception):
    status = 500
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ProxyError):
    status = 400
    default_message = "bad request"


class OptionError(BadRequest):
    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        super().__init__(f"{option}: {problem}")


class Forbidden(ProxyError):
    status = 403
    default_message = "forbidden"


class Withdrawn(ProxyError):
    status = 451
    default_message = "asset was rejected by moderation"


class Unauthorized(ProxyError):
    status = 401
    default_message = "missing credentials"


class NotFound(ProxyError):
    status = 404
    default_message = "not found"


class SourceTooLarge(ProxyError):
    status = 413
    default_message = "source image too large"


class UnsupportedImage(ProxyError):
    status = 415
    default_message = "unsupported image format"


class CorruptImage(ProxyError):
    status = 422
    default_message = "image data is corrupt"


class Overloaded(ProxyError):
    status = 503
    default_message = "overloaded, retry later"


class BadGateway(ProxyError):
    status = 502
    default_message = "origin failed"


class GatewayTimeout(ProxyError):
    status = 504
    default_message = "origin timed out"
