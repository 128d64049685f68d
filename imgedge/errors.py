"""The base of every error that carries an HTTP status and a message safe to show a client.

Each package has its own subclasses (imgedge.url, imgedge.imaging, the proxy, the generator); a service's
one exception handler turns any of them into a response.
"""

from __future__ import annotations


class PublicError(Exception):
    status = 500
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)
