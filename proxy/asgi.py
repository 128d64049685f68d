"""The proxy's front door: transform URLs go straight to TransformHandler.respond, without Starlette's
router and exception layers (about a sixth of a cache hit's CPU, see benchmarks/results/profile.md);
the service routes and the lifespan go to a small Starlette app. Before any of that, ImmediateHits answers
repeated hits from the memory tier inside the HTTP protocol's callback (imgedge.web.immediate)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from imgedge.errors import PublicError
from imgedge.observability import RequestIdMiddleware
from imgedge.proxy.errors import MethodNotAllowed
from imgedge.proxy.replies import error_reply, internal_error_reply, send_reply
from imgedge.proxy.routes import TRANSFORM, route_name
from imgedge.proxy.transform_handler import TransformHandler, TransformRequest
from imgedge.web.bodies import declared_length
from imgedge.web.clients import ClientAddress
from imgedge.web.immediate import Answer

_TRANSFORM_METHODS = ("GET", "HEAD")


class ProxyApp:
    def __init__(self, transforms: TransformHandler, service: ASGIApp) -> None:
        self.transforms = transforms
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_name(scope["path"]) != TRANSFORM:
            await self.service(scope, receive, send)
            return
        method: str = scope["method"]
        try:
            if method not in _TRANSFORM_METHODS:
                raise MethodNotAllowed(headers={"Allow": ", ".join(_TRANSFORM_METHODS)})
            reply = await self.transforms.respond(TransformRequest.from_scope(scope))
        except PublicError as exc:
            reply = error_reply(exc, method)
        except Exception as exc:
            reply = internal_error_reply(scope["path"], exc)
        await send_reply(send, reply)


class ImmediateHits:
    """The outermost layer: every request goes on through the web layers around ProxyApp, except
    what `respond_now` answers when uvicorn's protocol asks it first: a GET or HEAD of a transform URL
    verified before, without a body, whose variant this process's memory tier holds. Such a hit skips the
    request task, the four web layers and the ASGI messages, yet gets what they would have given it: the
    same headers, an X-Request-Id, the request metrics and the access log's decision."""

    def __init__(
        self, clients: ClientAddress, ids: RequestIdMiddleware, transforms: TransformHandler
    ) -> None:
        self.app = clients  # the outermost web layer; `ids` is one of those inside it
        self.ids = ids
        self.transforms = transforms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def respond_now(self, scope: Scope) -> Answer | None:
        if scope["method"] not in _TRANSFORM_METHODS or route_name(scope["path"]) != TRANSFORM:
            return None
        length, chunked = declared_length(scope)
        if length or chunked:
            return None  # BodyLimit's to refuse
        return self.ids.now(scope, self._hit)

    def _hit(self, scope: Scope) -> Answer | None:
        try:
            answer = self.transforms.respond_now(TransformRequest.from_scope(scope))
        except Exception:  # a PublicError, or a failure: the full path meets it again and answers it
            return None
        if answer is not None:
            self.app.resolve(scope)  # for the access log; not before: a declined scope goes on to ASGI
        return answer
