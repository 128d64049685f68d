"""Request bodies, read with a bound: nothing larger than its limit is ever held in memory."""

from __future__ import annotations

import json

from starlette.requests import Request

from imgedge.generator.errors import ApiError

MAX_JSON_BYTES = 64 * 1024


async def read_json(request: Request) -> object:
    body = await read_body(request, MAX_JSON_BYTES, "request body too large")
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None


async def read_body(request: Request, limit: int, too_large: str | None = None) -> bytes:
    """Refuses early, on the declared length or as the stream passes the limit."""
    message = too_large or f"file is larger than {limit} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, message)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, message)
        chunks.append(chunk)
    return b"".join(chunks)
