"""uvicorn's httptools protocol with the header limits of docs/security.md, enforced where the bytes are
buffered: the request line and headers hold at most IMGEDGE_MAX_HEADER_BYTES (431 and the connection closes)
and must be complete within IMGEDGE_HEADER_TIMEOUT of the connection opening or the request's first byte
(408 and closed). Both services run under it: `uvicorn --http imgedge.web.protocol:LimitedHttpToolsProtocol`.

It also takes uvicorn's own X-Forwarded-For handling off the app: who the client is, is decided by
imgedge.web.clients from IMGEDGE_TRUSTED_PROXIES, and uvicorn's default trusts any loopback peer.

And it lets an app answer a request on the spot (imgedge.web.immediate): where uvicorn would start a task
to run the ASGI app, an app with `respond_now` is asked first, and its answer is written at once. The
proxy's cache hits take about a third less CPU that way (benchmarks/results/profile.md, the ninth round).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
from uvicorn.server import ServerState

from imgedge import common_settings as C
from imgedge.web.immediate import Answer

_REQUEST_LINE_OVERHEAD = len(b"  HTTP/1.1\r\n") + len(b"\r\n")  # and the blank line ending the head
_HEADER_OVERHEAD = len(b": \r\n")


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    max_bytes: int
    timeout_s: float


@functools.cache
def header_limits() -> HeaderLimits:
    return HeaderLimits(C.MAX_HEADER_BYTES.read(), C.HEADER_TIMEOUT.read())


class _HeadRefused(Exception):
    pass


def _plain_response(status: bytes, message: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"x-content-type-options: nosniff\r\ncontent-length: " + str(len(message)).encode() + b"\r\n\r\n"
    ) + message


_TOO_LARGE = _plain_response(b"431 Request Header Fields Too Large", b"request headers too large\n")
_TIMED_OUT = _plain_response(b"408 Request Timeout", b"request headers took too long\n")
_MALFORMED = _plain_response(b"400 Bad Request", b"malformed HTTP request\n")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = _without_uvicorn_proxy_headers(self.app)
        self.limits = header_limits()
        self._in_head = True  # until the current request's headers are complete
        self._head_bytes = 0  # bytes of the current head fed to the parser so far
        self._feed_size = 0
        self._began_in_feed = self._completed_in_feed = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._seen_bytes = False
        self._respond_now = getattr(self.app, "respond_now", None)
        self._completing = False  # inside on_response_complete, which starts the next pipelined request
        self._answered_in_read = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self._seen_bytes = True
        self._answered_in_read = 0
        self._feed_size = len(data)
        self._began_in_feed = self._completed_in_feed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadRefused):
                self._refuse(_TOO_LARGE)
                return
            raise
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        if self._in_head:
            self._partial_head(len(data))

    def _partial_head(self, size: int) -> None:
        """The parser holds a head still arriving: count it, and give it until the header timeout."""
        # How much of this piece belongs to the head is known only when no earlier request ended in the same
        # piece (pipelining); a count low by at most one read (256 KiB) is the price of never refusing an
        # honest pipelined request.
        if not self._began_in_feed or not self._completed_in_feed:
            self._head_bytes += size
        if self._head_bytes > self.limits.max_bytes:
            self._refuse(_TOO_LARGE)
        elif self._head_timer is None:
            # Most heads arrive in one piece and never need a timer; this one began just now, in this piece.
            self._arm_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A request begins: the connection is not idle, whatever an answer made on the spot just armed.
        self._unset_keepalive_if_required()
        self._began_in_feed = True
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        # A head that began and ended within one piece no larger than the limit is within it: only heads that
        # span pieces, or big pieces, are measured.
        measure = not self._began_in_feed or self._feed_size > self.limits.max_bytes
        if measure and self._exact_head_size() > self.limits.max_bytes:
            raise _HeadRefused()
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def _exact_head_size(self) -> int:
        headers = sum(len(name) + len(value) + _HEADER_OVERHEAD for name, value in self.headers)
        return len(self.parser.get_method()) + len(self.url) + _REQUEST_LINE_OVERHEAD + headers

    def on_message_complete(self) -> None:
        self._completed_in_feed = True
        super().on_message_complete()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._seen_bytes:
            self._refuse(_TIMED_OUT)
        else:
            self.transport.close()  # a connection that never said anything gets no answer

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answer, with the headers every imgedge response carries.
        self._refuse(_MALFORMED)

    def _refuse(self, response: bytes) -> None:
        self._cancel_head_timer()
        self._in_head = False
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def on_response_complete(self) -> None:
        self._completing = True
        try:
            super().on_response_complete()
        finally:
            self._completing = False
        # The next request's head begins with its first byte; until then uvicorn's keep-alive timeout runs.
        self._seen_bytes = False

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if not self._may_answer_now(cycle, app) or not self._answer_now(cycle):
            super()._start_asgi_task(cycle, app)

    def _may_answer_now(self, cycle: RequestResponseCycle, app: Any) -> bool:
        # Not for a pipelined request started as the one before it completes (answering it here would start
        # the next from inside this call, a stack frame deeper per request), nor while the client is not
        # reading what it was sent (the ASGI path waits for it), nor when uvicorn refuses the request (over
        # its concurrency limit, `app` is its refusal). And at most _MAX_ANSWERS_PER_READ from one read: the
        # rest of a pipelined flood is queued and served one task at a time, between other connections' turns,
        # instead of holding the event loop for the whole read (up to 256 KiB of requests).
        return (
            self._respond_now is not None and app is self.app and not self._completing
            and not self.flow.write_paused and cycle.scope["method"] in _ASKED
            and self._answered_in_read < _MAX_ANSWERS_PER_READ
        )  # fmt: skip

    def _answer_now(self, cycle: RequestResponseCycle) -> bool:
        """What RequestResponseCycle.send writes for the app's answer, written without a task (see the module
        docstring); False where the app has no answer and the request takes the ASGI path."""
        assert self._respond_now is not None
        try:
            answer: Answer | None = self._respond_now(cycle.scope)
        except Exception:
            # Raised from inside the parser's callback it would end the connection: ASGI answers instead.
            self.logger.exception("answering %s on the spot failed", cycle.scope["path"])
            return False
        if answer is None:
            return False
        self._answered_in_read += 1
        cycle.response_started = cycle.response_complete = True
        cycle.waiting_for_100_continue = False
        scope = cycle.scope
        if cycle.access_log:
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                get_path_with_query_string(scope), scope["http_version"], answer.status,
            )  # fmt: skip
        is_head = scope["method"] == "HEAD"
        head = _head(answer, cycle.default_headers, keep_alive=cycle.keep_alive, is_head=is_head)
        if head is None:
            # uvicorn's answer to an invalid header: the connection closes without a response.
            self.logger.error("invalid header in a response to %s", scope["path"])
            self.transport.close()
        elif is_head or not answer.body:
            self.transport.write(head)
        else:
            self.transport.writelines((head, answer.body))
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()
        return True


_ASKED = ("GET", "HEAD")
_MAX_ANSWERS_PER_READ = 32
# Header names an answer used before, checked and lowercased once (the proxy's hits send the same dozen).
_NAMES: dict[bytes, bytes] = {}
_MAX_NAMES = 256


def _head(
    answer: Answer, default_headers: list[tuple[bytes, bytes]], *, keep_alive: bool, is_head: bool
) -> bytes | None:
    """The status line and headers, as RequestResponseCycle.send checks and frames them; None where a name or
    value is one it would refuse. The answer's body is all of it: its length is the Content-Length."""
    content = [STATUS_LINE[answer.status]]
    has_length = False
    values = []
    for name, value in (*default_headers, *answer.headers):
        lowered = _NAMES.get(name)
        if lowered is None:
            if HEADER_RE.search(name):
                return None
            lowered = name.lower()
            if len(_NAMES) < _MAX_NAMES:
                _NAMES[name] = lowered
        if lowered == b"content-length":
            has_length = True
        elif lowered == b"transfer-encoding" or lowered == b"connection":
            return None  # framing is this function's to decide
        values.append(value)
        content += (lowered, b": ", value, b"\r\n")
    if HEADER_VALUE_RE.search(b"\t".join(values)):  # a tab is allowed in a value, so joining hides nothing
        return None
    if not has_length and not is_head and answer.status not in (204, 304):
        content += (b"content-length: ", str(len(answer.body)).encode(), b"\r\n")
    if not keep_alive:
        content.append(b"connection: close\r\n")
    content.append(b"\r\n")
    return b"".join(content)


def _without_uvicorn_proxy_headers(app: Any) -> Any:
    while isinstance(app, ProxyHeadersMiddleware):
        app = app.app
    return app
