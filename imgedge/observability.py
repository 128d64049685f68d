"""Request ids and structured JSON logs, shared by both services."""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imgedge.common_settings import ACCESS_LOG

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RAW = REQUEST_ID_HEADER.encode()
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("imgedge.access")


_ID_PREFIX = secrets.token_hex(4)  # per process; ids need to be unique, not secret
_ID_COUNTER = itertools.count()


def _new_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips narrates every operation at INFO


class RequestIdMiddleware:
    """Takes a sane incoming X-Request-Id (a CDN's) or makes one; returns it and logs one line per request."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, int, float], None] | None = None) -> None:
        self.app = app
        self.observe = observe  # (path, status, seconds): one wrapper for logs and metrics, not two
        # all | misses (everything except successful cache hits, which a CDN logs anyway) | off
        self.mode = ACCESS_LOG.read()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope["headers"], _REQUEST_ID_RAW).decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else _new_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        cache_status = ""

        async def send_with_id(message: Message) -> None:
            nonlocal status, cache_status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                cache_status = _header(headers, b"cache-status").decode("latin-1")
                message["headers"] = [*headers, (_REQUEST_ID_RAW, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.observe is not None:
                self.observe(scope["path"], status, time.perf_counter() - started)
            hit = status < 400 and cache_status.startswith("imgedge; hit")
            if self.mode == "all" or (self.mode == "misses" and not hit):
                _log_request(scope, status, started, cache_status)
            request_id.reset(token)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    # A scan, not dict(headers): this runs twice on every request, cache hits included.
    for key, value in headers:
        if key == name:
            return value
    return b""


def _log_request(scope: Scope, status: int, started: float, cache_status: str) -> None:
    fields = {
        "method": scope["method"], "path": scope["path"], "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }  # fmt: skip
    if cache_status:
        fields["cache"] = cache_status
    access_log.info("request", extra={"fields": fields})
