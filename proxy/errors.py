"""The proxy's own errors: access, availability and origin trouble. URL and image errors live with their
packages (imgedge.url.errors, imgedge.imaging.errors); all share imgedge.errors.PublicError."""

from __future__ import annotations

from imgedge.errors import PublicError


class ProxyError(PublicError):
    pass


class Forbidden(ProxyError):
    status = 403
    default_message = "forbidden"


class Withdrawn(ProxyError):
    status = 451
    default_message = "asset was rejected by moderation"


class Unauthorized(ProxyError):
    status = 401
    default_message = "missing credentials"


class MethodNotAllowed(ProxyError):
    status = 405
    default_message = "Method Not Allowed"


class NotFound(ProxyError):
    status = 404
    default_message = "not found"


class Overloaded(ProxyError):
    status = 503
    default_message = "overloaded, retry later"


class BadGateway(ProxyError):
    status = 502
    default_message = "origin failed"


class GatewayTimeout(ProxyError):
    status = 504
    default_message = "origin timed out"


class BadRequest(ProxyError):
    status = 400
    default_message = "bad request"
