"""Responses made inside uvicorn's protocol callback, before a request task exists: what an app offers the
protocol (imgedge.web.protocol) to answer a request on the spot, and what it answers with. An app without
`respond_now` has every request go through ASGI as usual."""

from __future__ import annotations

from typing import Protocol

from starlette.types import Scope


class Answer(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> list[tuple[bytes, bytes]]: ...

    @property
    def body(self) -> bytes: ...


class RespondsNow(Protocol):
    def respond_now(self, scope: Scope) -> Answer | None:
        """A complete answer, or None to have the request go through ASGI. Asked about GET and HEAD only; a
        request with a body must be declined. Must not await, and must have no effect when it declines."""
