"""The generator's one exception handler: any PublicError becomes a JSON error that is never cached."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Scope

from imgedge.errors import PublicError


async def public_error_response(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, PublicError)
    headers = {"Cache-Control": "no-store", **exc.headers}
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)


def json_error_response(_: Scope, exc: PublicError) -> ASGIApp:
    """The same response, for middleware that refuses a request before Starlette's handlers see it."""
    headers = {"Cache-Control": "no-store", **exc.headers}
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)
