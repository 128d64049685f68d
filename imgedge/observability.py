"""Request ids and logs, shared by both services and the workers: JSON lines when stderr is not a
terminal (a log collector reads them), one readable line per record when it is (a person reads them)."""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imgedge.common_settings import ACCESS_LOG
from imgedge.web.immediate import Answer

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RAW = REQUEST_ID_HEADER.encode()
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("imgedge.access")
# Successful GETs of these path prefixes are logged at DEBUG: probes, scrapes and polls would otherwise
# fill the log with one line every few seconds.
QUIET_PATHS = ("/healthz", "/readyz", "/metrics")


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


class ConsoleFormatter(logging.Formatter):
    """`12:03:04 INFO imgedge.access request method=GET path=/… status=200` — one line a person can scan."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line += "".join(f" {key}={value}" for key, value in fields.items())
        rid = request_id.get()
        if rid != "-":
            line += f" request_id={rid}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def stream_formatter() -> logging.Formatter:
    """JSON for collectors, or the one-line console form when a person is watching stderr."""
    return ConsoleFormatter() if sys.stderr.isatty() else JsonFormatter()


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(stream_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips narrates every operation at INFO
    # uvicorn gives its loggers handlers of their own; route them through ours so every line has one form.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not logger.handlers and not logger.propagate:
            continue  # silenced on purpose (`--no-access-log`): uvicorn's line would print secrets in paths
        logger.handlers[:] = []
        logger.propagate = True


class RequestIdMiddleware:
    """Takes a sane incoming X-Request-Id (a CDN's) or makes one; returns it and logs one line per request."""

    def __init__(
        self,
        app: ASGIApp,
        observe: Callable[[str, int, float], None] | None = None,
        quiet_paths: tuple[str, ...] = QUIET_PATHS,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.app = app
        self.observe = observe  # (path, status, seconds): one wrapper for logs and metrics, not two
        self.redact = redact  # secrets in paths (upload tokens) never reach the log
        # all | misses (everything except successful cache hits, which a CDN logs anyway) | off
        self.mode = ACCESS_LOG.read()
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = self._request_id(scope)
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
            self._finished(scope, status, started, cache_status)
            request_id.reset(token)

    def now(self, scope: Scope, respond: Callable[[Scope], Answer | None]) -> Answer | None:
        """This middleware's jobs around an answer made without awaiting (imgedge.web.immediate)."""
        rid = self._request_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            answer = respond(scope)
            if answer is not None:
                answer.headers.append((_REQUEST_ID_RAW, rid.encode()))
                cache_status = _header(answer.headers, b"cache-status").decode("latin-1")
                self._finished(scope, answer.status, started, cache_status)
            return answer
        finally:
            request_id.reset(token)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        incoming = _header(scope["headers"], _REQUEST_ID_RAW).decode("latin-1")
        return incoming if incoming and _SANE_ID.match(incoming) else _new_id()

    def _finished(self, scope: Scope, status: int, started: float, cache_status: str) -> None:
        if self.observe is not None:
            self.observe(scope["path"], status, time.perf_counter() - started)
        hit = status < 400 and cache_status.startswith("imgedge; hit")
        if self.mode == "all" or (self.mode == "misses" and not hit):
            quiet = status < 400 and scope["method"] == "GET" and scope["path"].startswith(self.quiet_paths)
            path = self.redact(scope["path"]) if self.redact is not None else scope["path"]
            _log_request(scope, path, status, started, cache_status, logging.DEBUG if quiet else logging.INFO)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    # A scan, not dict(headers): this runs twice on every request, cache hits included.
    for key, value in headers:
        if key == name:
            return value
    return b""


def _log_request(scope: Scope, path: str, status: int, started: float, cache_status: str, level: int) -> None:
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    fields = {
        "method": scope["method"], "path": path, "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        # imgedge.web.clients has put the client there: the socket peer, or who a trusted proxy names.
        "client": client[0] if client else None,
    }  # fmt: skip
    if cache_status:
        fields["cache"] = cache_status
    access_log.log(level, "request", extra={"fields": fields})
