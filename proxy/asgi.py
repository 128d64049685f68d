"""The proxy's front door: transform URLs go straight to TransformHandler.respond, without Starlette's
router and exception layers (about a sixth of a cache hit's CPU, see benchmarks/results/profile.md);
the service routes and the lifespan go to a small Starlette app."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from imgedge.errors import PublicError
from imgedge.proxy.errors import MethodNotAllowed
from imgedge.proxy.replies import error_reply, internal_error_reply, send_reply
from imgedge.proxy.routes import TRANSFORM, route_name
from imgedge.proxy.transform_handler import TransformHandler, TransformRequest

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
