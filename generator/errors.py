from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    """An error with the status and the public message the client sees; bad input is never a 500."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


async def api_error_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"Cache-Control": "no-store", **exc.headers}
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)
