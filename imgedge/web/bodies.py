"""Request bodies bounded before they are read: a declared Content-Length over the route's limit is refused at
once, a chunked body the moment it passes the limit (413, and the connection closes rather than reading the
rest); a client that stops sending mid-body gets 408 after IMGEDGE_BODY_TIMEOUT. Memory stays flat because
uvicorn itself stops reading a body nobody consumes (flow control at 64 KiB)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imgedge.errors import PublicError

_CLOSE = {"Connection": "close"}


class BodyTooLarge(PublicError):
    status = 413
    default_message = "request body too large"


class BodyTimeout(PublicError):
    status = 408
    default_message = "request body took too long"


# The service's one error responder, as an ASGI app for this request.
ErrorResponder = Callable[[Scope, PublicError], ASGIApp]


def declared_length(scope: Scope) -> tuple[int | None, bool]:
    """(Content-Length, chunked) as the parser accepted them."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return length, chunked


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"request body is larger than {limit} bytes", headers=dict(_CLOSE))


class BodyLimit:
    """`limit_for(scope)` is the most bytes a request to that route may send (0: no body at all)."""

    def __init__(
        self, app: ASGIApp, *, limit_for: Callable[[Scope], int], respond: ErrorResponder, timeout_s: float
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.respond = respond
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = declared_length(scope)
        if not length and not chunked:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        if length is not None and length > limit:
            await self.respond(scope, too_large(limit))(scope, receive, send)
            return
        body = _BoundedBody(receive, limit, self.timeout_s)
        await self.app(scope, body.receive, body.closing_if_unread(send))


class _BoundedBody:
    def __init__(self, receive: Receive, limit: int, timeout_s: float) -> None:
        self._receive = receive
        self.limit = limit
        self.timeout_s = timeout_s
        self.received = 0
        self.finished = False

    def closing_if_unread(self, send: Send) -> Send:
        """A response sent before the body was read to its end closes the connection: otherwise the server
        would go on reading (and dropping) whatever the client still sends."""

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and not self.finished:
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        return sending

    async def receive(self) -> Message:
        if self.finished:
            return await self._receive()  # after the body, receive only waits for a disconnect
        try:
            with anyio.fail_after(self.timeout_s):
                message = await self._receive()
        except TimeoutError:
            raise BodyTimeout(headers=dict(_CLOSE)) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise too_large(self.limit)
            self.finished = not message.get("more_body", False)
        return message
