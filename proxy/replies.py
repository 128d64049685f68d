"""Responses as status, raw headers and body: built once here, sent as-is by the transform path and
wrapped for Starlette by the service routes' exception handlers."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Scope, Send

from imgedge.cache.entry import Entry
from imgedge.errors import PublicError
from imgedge.imaging.errors import LibvipsFailure
from imgedge.origin_protocol import IMMUTABLE, MODERATION_HEADER, etag_matches
from imgedge.proxy import metrics
from imgedge.proxy.dialects.base import NO_REPLY_HEADERS, ReplyHeaders
from imgedge.proxy.http_headers import error_cache_control, server_timing, variant_cache_control
from imgedge.url.hints import ACCEPT_CH
from imgedge.url.spec import TransformSpec, fmt_number

log = logging.getLogger("imgedge.proxy")

RawHeaders = list[tuple[bytes, bytes]]
_TEXT = b"text/plain; charset=utf-8"
_IMMUTABLE = IMMUTABLE.encode("latin-1")
ACCEPT_CH_BYTES = ACCEPT_CH.encode("latin-1")
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_QUALITY_HEADER = "x-imgedge-quality"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: RawHeaders
    body: bytes


def variant_reply(
    *,
    method: str,
    if_none_match: str | None,
    entry: Entry,
    spec: TransformSpec,
    surrogate_key: str,
    varies: bool,
    cache_status: str,
    timings: dict[str, float],
    hint_vary: tuple[str, ...] = (),
    content_dpr: float | None = None,
    accept_ch: bool = False,
    lifetime: int = 0,
    dialect_headers: ReplyHeaders = NO_REPLY_HEADERS,
) -> Reply:
    """A cached or fresh variant: 304 on a matching ETag, no body for HEAD. `lifetime` caps the max-age of
    variants whose source may change."""
    moderation = moderation_of(entry)
    if moderation == "approved" and not spec.expires and not lifetime:
        cache_control = _IMMUTABLE  # the common case, without formatting a string on every hit
    else:
        text = variant_cache_control(moderation, spec.expires, time.time(), lifetime)
        cache_control = text.encode("latin-1")
    headers = [
        (b"etag", entry.etag.encode("latin-1")),
        (b"cache-control", cache_control),
        (b"cache-status", cache_status.encode("latin-1")),
        # The type is named here too: Resource Timing hides Content-Type from cross-origin pages.
        (b"server-timing", f'{server_timing(timings)}, type;desc="{entry.media_type}"'.encode("latin-1")),
        *_asset_headers(surrogate_key, ("Accept", *hint_vary) if varies else hint_vary),
    ]
    if accept_ch:
        headers.append((b"accept-ch", ACCEPT_CH_BYTES))
    quality = _stored(entry, _QUALITY_HEADER)
    if quality is not None:
        headers.append((_QUALITY_HEADER.encode("latin-1"), quality.encode("latin-1")))
    if content_dpr is not None:
        headers.append((b"content-dpr", fmt_number(content_dpr).encode("latin-1")))
    if dialect_headers is not NO_REPLY_HEADERS:
        headers = _with_dialect_headers(
            headers, dialect_headers, cache_control == _IMMUTABLE, entry.media_type
        )
    if etag_matches(if_none_match, entry.etag):
        return Reply(304, headers, b"")
    headers += _body_headers(entry.media_type, len(entry.body))
    return Reply(200, headers, b"" if method == "HEAD" else entry.body)


def moderation_of(entry: Entry) -> str:
    found = _stored(entry, MODERATION_HEADER)
    return "approved" if found is None else found


def _stored(entry: Entry, name: str) -> str | None:
    # A scan, not dict(entry.headers): a stored entry has two or three headers, and a hit reads them.
    for key, value in entry.headers:
        if key == name:
            return value
    return None


# The headers that depend only on the asset and the entry are built once: a hit sends them every time.
@functools.lru_cache(maxsize=4096)
def _asset_headers(surrogate_key: str, vary: tuple[str, ...]) -> tuple[tuple[bytes, bytes], ...]:
    surrogate = surrogate_key.encode("latin-1")
    headers = [
        (b"surrogate-key", surrogate),
        (b"cache-tag", surrogate),
        (b"timing-allow-origin", b"*"),
        _NOSNIFF,
    ]
    if vary:
        headers.append((b"vary", ", ".join(vary).encode("latin-1")))
    return tuple(headers)


@functools.lru_cache(maxsize=4096)
def _body_headers(media_type: str, length: int) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"content-type", media_type.encode("latin-1")),
        (b"content-length", str(length).encode("latin-1")),
    )


def _with_dialect_headers(
    headers: RawHeaders, extra: ReplyHeaders, immutable: bool, media_type: str
) -> RawHeaders:
    """A dialect's headers in place of imgedge's of the same name (see ReplyHeaders)."""
    replacing = dict(extra.fixed)
    if extra.immutable_cache_control is not None and immutable:
        replacing["cache-control"] = extra.immutable_cache_control
    if extra.disposition is not None:
        suffix = media_type.rpartition("/")[2]
        replacing["content-disposition"] = f'{extra.disposition}; filename="{extra.filename}.{suffix}"'
    names = {name.lower().encode("latin-1") for name in replacing}
    kept = [(name, value) for name, value in headers if name not in names]
    added = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in replacing.items()]
    return kept + added


def error_reply(exc: PublicError, method: str) -> Reply:
    """Every PublicError, on any route, becomes a response here and nowhere else."""
    metrics.TRANSFORM_ERRORS.labels(type(exc).__name__).inc()
    if isinstance(exc, LibvipsFailure):
        metrics.LIBVIPS_FAILURES.labels(exc.stage).inc()
    body = "" if method == "HEAD" else exc.message + "\n"
    return _plain_text(exc.status, {"Cache-Control": error_cache_control(exc.status), **exc.headers}, body)


def internal_error_reply(path: str, exc: BaseException) -> Reply:
    log.exception("unhandled error on %s", path, exc_info=exc)
    return _plain_text(500, {"Cache-Control": "no-store"}, "internal error\n")


def _plain_text(status: int, headers: dict[str, str], text: str) -> Reply:
    body = text.encode()
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    raw += [(b"content-length", str(len(body)).encode("latin-1")), (b"content-type", _TEXT), _NOSNIFF]
    return Reply(status, raw, body)


async def send_reply(send: Send, reply: Reply) -> None:
    await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
    await send({"type": "http.response.body", "body": reply.body})


def starlette_response(reply: Reply) -> Response:
    response = Response(reply.body, status_code=reply.status)
    response.raw_headers = list(reply.headers)
    return response


def error_response(scope: Scope, exc: PublicError) -> ASGIApp:
    """For middleware that refuses a request before any route runs."""
    return starlette_response(error_reply(exc, scope["method"]))


async def handle_public_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PublicError)
    return starlette_response(error_reply(exc, request.method))


async def handle_internal_error(request: Request, exc: Exception) -> Response:
    return starlette_response(internal_error_reply(request.url.path, exc))


# The service routes' Starlette app uses these; the transform path calls the same *_reply functions.
EXCEPTION_HANDLERS = {PublicError: handle_public_error, Exception: handle_internal_error}
