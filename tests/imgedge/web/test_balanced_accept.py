"""Proxy workers on one socket take turns at new connections by the connections each holds."""

from __future__ import annotations

import asyncio
import collections
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from imgedge.common_settings import CONNECTION_TABLE_FD, WORKER_INDEX
from imgedge.socket_workers import SocketWorkers, listen
from imgedge.web.balanced_accept import new_event_loop
from imgedge.web.connection_table import ConnectionTable, create_table
from imgedge.web.uvicorn_args import BALANCED_LOOP

# Holds each request a moment, so a burst's connections are all open at once, and answers with its pid.
PID_APP = """
import asyncio, os
PID = str(os.getpid()).encode()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.2)
    headers = [(b"content-length", b"%d" % len(PID))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PID})
"""


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport's subclasses

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _echoes(address: tuple[str, int]) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"
    return writer


def test_connections_are_counted_while_open_and_a_deferred_one_is_still_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = create_table(2)
    monkeypatch.setenv(CONNECTION_TABLE_FD.name, str(table))
    monkeypatch.setenv(WORKER_INDEX.name, "0")
    other = ConnectionTable(table, 1)  # a live worker that holds one connection and accepts no more
    other.opened()

    async def main() -> None:
        with listen("127.0.0.1", 0) as sock:
            server = await asyncio.get_running_loop().create_server(_Echo, sock=sock)
            address = sock.getsockname()
            assert other.crowded()  # this server holds none
            first = await _echoes(address)
            assert not other.crowded()
            # One more than the other worker holds: the third waits for it, then is taken anyway.
            rest = [await _echoes(address) for _ in range(2)]
            for writer in (first, *rest):
                writer.close()
            deadline = time.monotonic() + 10
            while not other.crowded() and time.monotonic() < deadline:  # back to none
                await asyncio.sleep(0.01)
            assert other.crowded()
            server.close()
            await server.wait_closed()
            assert not other.crowded()  # it left: no longer compared with

    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(main())
    finally:
        other.close()
        os.close(table)


def test_without_a_table_it_is_uvloops_own_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONNECTION_TABLE_FD.name, raising=False)

    async def main() -> None:
        with listen("127.0.0.1", 0) as sock:
            server = await asyncio.get_running_loop().create_server(_Echo, sock=sock)
            assert type(server).__module__.startswith("uvloop")
            (await _echoes(sock.getsockname())).close()
            server.close()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[SocketWorkers, int]]:
    (tmp_path / "pid_app.py").write_text(PID_APP)
    sock = listen("127.0.0.1", 0)
    log = tmp_path / "workers.log"
    # Each worker's stderr to the log, through an `exec` that leaves its pid the one SocketWorkers knows.
    command = [
        "sh", "-c", f'exec "$0" "$@" 2>>{shlex.quote(str(log))}',
        sys.executable, "-m", "uvicorn", "pid_app:app", "--app-dir", str(tmp_path),
        "--fd", str(sock.fileno()), "--loop", BALANCED_LOOP,
    ]  # fmt: skip
    started = SocketWorkers(command, dict(os.environ), sock, 2)
    try:
        yield started, sock.getsockname()[1]
        for process in started.processes:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(timeout=30)
        # uvicorn's shutdown closed each worker's acceptor and waited for it.
        written = log.read_text()
        assert written.count("Finished server process") == 2 and "Traceback" not in written, written
    finally:
        for process in started.processes:
            process.kill()
            process.wait()
        started.close()
        sock.close()


async def _pid(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return int(reply.rsplit(b"\r\n\r\n", 1)[1])


async def _burst(port: int, connections: int) -> collections.Counter[int]:
    return collections.Counter(await asyncio.gather(*(_pid(port) for _ in range(connections))))


def _until_both_answer(port: int, pids: set[int]) -> None:
    deadline = time.monotonic() + 30
    while set(asyncio.run(_burst(port, 2))) != pids:
        assert time.monotonic() < deadline, "the workers did not both start"


def test_a_burst_of_connections_is_shared_between_the_workers(workers: tuple[SocketWorkers, int]) -> None:
    started, port = workers
    pids = {process.pid for process in started.processes}
    _until_both_answer(port, pids)
    splits = [sorted(asyncio.run(_burst(port, 8)).values()) for _ in range(8)]
    # Accepting every connection waiting, the first worker to wake took 7 or 8 of most bursts: in four runs of
    # 5 bursts, 2, 1, 0 and 0 were shared like this.
    assert sum(split in ([3, 5], [4, 4]) for split in splits) >= 5, splits


def test_a_stopped_worker_holds_up_no_connection(workers: tuple[SocketWorkers, int]) -> None:
    started, port = workers
    pids = {process.pid for process in started.processes}
    _until_both_answer(port, pids)
    stopped, running = (process.pid for process in started.processes)
    os.kill(stopped, signal.SIGSTOP)
    began = time.monotonic()
    assert asyncio.run(_burst(port, 8)) == {running: 8}
    assert time.monotonic() - began < 5
    os.kill(stopped, signal.SIGCONT)
    _until_both_answer(port, pids)  # and it takes its turns again once it runs
