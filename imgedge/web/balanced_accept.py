"""Proxy workers on one listening socket take turns at new connections, by how many each holds.

uvloop (libuv) accepts every connection waiting each time the shared socket turns readable, so a burst opened
at once (a benchmark's client, a CDN filling its pool) lands on whichever worker woke first: 8-0 or 7-1 in 35
of 40 bursts of 8 to two workers, and that worker's transform threads carried the load while the other idled
(benchmarks/results/profile.md, "The twelfth round").

Here a worker holding more connections than another live worker (ConnectionTable.crowded) leaves the next to
that worker for DEFER_S before taking it itself; otherwise it takes up to BATCH, re-checking after each. The
counts live in a table `imgedge serve` shares with its workers (IMGEDGE_CONNECTION_TABLE_FD, a memfd): per
worker, its open connections and when its event loop last ran. A worker whose loop has not run for the
table's STALE_S (stopped, deadlocked, dead) is left out, and a connection that waited DEFER_S is taken
regardless, so a hung worker delays new connections by at most a few milliseconds each for half a second.
With SO_REUSEPORT, the other way to spread connections, a hung worker's share of them would wait for it until
it was replaced.

Used as uvicorn's event loop (`--loop imgedge.web.balanced_accept:new_event_loop`); without a table it is
plain uvloop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import uvloop

from imgedge import common_settings as C
from imgedge.web.connection_table import ConnectionTable

log = logging.getLogger("imgedge.web")

DEFER_S = 0.002  # how long a crowded worker leaves a waiting connection to a less busy one
BATCH = 16  # connections taken in one go while the worker is not crowded
TICK_S = 0.1  # how often an idle worker's loop says it runs (the table's STALE_S is five of these)
RESOURCE_PAUSE_S = 1.0  # out of descriptors or buffers: asyncio's own accept loop waits as long
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class _Counted(asyncio.Protocol):
    """The server's protocol, its connection taken off the count once it is lost."""

    def __init__(self, inner: asyncio.Protocol, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.release()
        self._inner.connection_lost(exc)


class _Acceptor(asyncio.AbstractServer):
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], asyncio.Protocol],
        sock: socket.socket,
        table: ConnectionTable,
    ) -> None:
        self._loop = loop
        self._factory = protocol_factory
        self._given = sock
        # A socket of the descriptor's own family: uvicorn's `--fd` wraps it as AF_UNIX.
        self._listener = socket.socket(fileno=os.dup(sock.fileno()))
        self._listener.setblocking(False)
        self._table = table
        self._opening: set[asyncio.Task[None]] = set()
        self._paused: asyncio.TimerHandle | None = None
        self._closed = loop.create_future()
        self._ticker = loop.call_later(TICK_S, self._tick)
        loop.add_reader(self._listener.fileno(), self._readable)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._given,)

    def _tick(self) -> None:
        self._table.tick()
        self._ticker = self._loop.call_later(TICK_S, self._tick)

    def _readable(self) -> None:
        self._table.tick()
        if self._table.crowded():
            self._pause(DEFER_S, take_one=True)
            return
        for _ in range(BATCH):
            if not self._accept() or self._table.crowded():
                return

    def _pause(self, delay_s: float, *, take_one: bool) -> None:
        self._loop.remove_reader(self._listener.fileno())
        self._paused = self._loop.call_later(delay_s, self._resume, take_one)

    def _resume(self, take_one: bool) -> None:
        self._paused = None
        self._loop.add_reader(self._listener.fileno(), self._readable)
        if take_one:  # nobody less busy took it meanwhile
            self._accept()

    def _accept(self) -> bool:
        try:
            connection, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False  # another worker took it, or the client gave up while it waited
        except OSError as exc:
            if exc.errno not in _OUT_OF_RESOURCES:
                raise
            log.warning("cannot accept a connection (%s); pausing for %.0f s", exc, RESOURCE_PAUSE_S)
            if self._paused is None:
                self._pause(RESOURCE_PAUSE_S, take_one=False)
            return False
        connection.setblocking(False)
        self._table.opened()
        task = self._loop.create_task(self._serve(connection))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)
        return True

    async def _serve(self, connection: socket.socket) -> None:
        counted: list[_Counted] = []

        def protocol() -> asyncio.Protocol:
            counted.append(_Counted(self._factory(), self._table.closed))
            return counted[0]

        try:
            await self._loop.connect_accepted_socket(protocol, connection)
        except Exception:
            log.exception("could not serve an accepted connection")
            connection.close()
            if counted:
                counted[0].release()
            else:
                self._table.closed()

    def close(self) -> None:
        if self._closed.done():
            return
        self._closed.set_result(None)
        self._table.leave()
        self._ticker.cancel()
        if self._paused is not None:
            self._paused.cancel()
        else:
            self._loop.remove_reader(self._listener.fileno())
        self._listener.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return not self._closed.done()

    async def start_serving(self) -> None:
        pass  # serving since it was made, as create_server's servers are by default

    async def serve_forever(self) -> None:
        await asyncio.shield(self._closed)

    async def wait_closed(self) -> None:
        if self._opening:
            await asyncio.wait(self._opening)


class BalancedLoop(uvloop.Loop):
    # Any server, where asyncio's signature promises its own class: uvicorn uses what AbstractServer offers.
    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.AbstractServer:  # type: ignore[override]
        sock = kwargs.get("sock")
        table_fd = C.CONNECTION_TABLE_FD.read()
        if sock is None or not table_fd or kwargs.get("ssl") is not None or len(args) != 1:
            server: asyncio.AbstractServer = await super().create_server(*args, **kwargs)
            return server
        return _Acceptor(self, args[0], sock, ConnectionTable(table_fd, C.WORKER_INDEX.read()))


def new_event_loop() -> asyncio.AbstractEventLoop:
    return BalancedLoop()
