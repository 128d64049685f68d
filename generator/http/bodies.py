"""Request bodies, read with a bound: nothing larger than its limit is ever held in memory. The limits and the
JSON rules are imgedge.generator.security's; the BodyLimit middleware has already refused an over-limit
declared length before a route runs."""

from __future__ import annotations

from starlette.requests import Request

from imgedge.generator.errors import ApiError
from imgedge.generator.security.json_body import check_content_type, parse_json


async def read_json(request: Request, limit: int) -> object:
    """The request's JSON value, `{}` for an empty body; 415 / 413 / 400 as json_body describes."""
    content_type = request.headers.get("content-type")
    if content_type is not None:
        check_content_type(content_type, has_body=True)  # a form or text/plain post is refused unread
    body = await read_body(request, limit, f"request body is larger than {limit} bytes")
    if not body:
        return {}
    check_content_type(content_type, has_body=True)
    return parse_json(body)


async def read_body(request: Request, limit: int, too_large: str | None = None) -> bytes:
    """Refuses early, on the declared length or as the stream passes the limit."""
    message = too_large or f"file is larger than {limit} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, message, {"Connection": "close"})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, message, {"Connection": "close"})
        chunks.append(chunk)
    return b"".join(chunks)
