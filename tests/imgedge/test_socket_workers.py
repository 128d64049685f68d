"""Worker processes on one inherited socket, supervised by the process that opened it."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from imgedge import socket_workers
from imgedge.common_settings import HEARTBEAT_FD
from imgedge.socket_workers import STARTUP_FAILURE, SocketWorkers, listen

# Accepts on the inherited descriptor and answers each connection with its pid: what uvicorn's `--fd` does.
ANSWER_PID = """
import os, socket, sys
listener = socket.socket(fileno=int(sys.argv[1]))
while True:
    connection, _ = listener.accept()
    connection.sendall(str(os.getpid()).encode())
    connection.close()
"""


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    opened = listen("127.0.0.1", 0)
    yield opened
    opened.close()


def _stop(workers: SocketWorkers) -> None:
    for process in workers.processes:
        process.kill()
        process.wait()
    workers.close()


def _answer(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        return int(connection.recv(32))


def _answering(port: int, expected: set[int]) -> set[int]:
    answered: set[int] = set()
    deadline = time.monotonic() + 10
    while answered != expected and time.monotonic() < deadline:
        answered.add(_answer(port))
    return answered


# A worker's event loop beating (imgedge.web.heartbeat itself), ten times as often.
BEATING = f"""
import asyncio, os
from imgedge.web import heartbeat
heartbeat.INTERVAL_S = 0.1
asyncio.run(heartbeat.beat(int(os.environ["{HEARTBEAT_FD.name}"])))
"""


def _exiting(code: int) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.exit({code})"]


def test_workers_share_the_socket_and_a_dead_one_is_replaced(sock: socket.socket) -> None:
    port = sock.getsockname()[1]
    forgotten: list[int] = []
    command = [sys.executable, "-c", ANSWER_PID, str(sock.fileno())]
    workers = SocketWorkers(command, dict(os.environ), sock, 2, on_exit=forgotten.append)
    try:
        first = {p.pid for p in workers.processes}
        # The kernel hands each connection to whichever worker accepts first: both end up answering.
        assert _answering(port, first) == first
        dead = workers.processes[0].pid
        os.kill(dead, signal.SIGKILL)
        workers.processes[0].wait()
        assert workers.poll() == -signal.SIGKILL
        assert workers.keep_alive()
        assert forgotten == [dead]
        now = {p.pid for p in workers.processes}
        assert dead not in now and len(now) == 2
        assert _answering(port, now) == now  # the replacement too, once it has started
    finally:
        _stop(workers)


def _supervise(workers: SocketWorkers, until: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert workers.keep_alive()
        if until():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_whose_loop_stops_beating_is_killed_and_replaced(sock: socket.socket) -> None:
    told: list[int] = []
    command = [sys.executable, "-c", BEATING]
    workers = SocketWorkers(command, dict(os.environ), sock, 2, told.append, timeout_s=2.0, startup_s=10.0)
    try:
        first = [p.pid for p in workers.processes]
        # Beating workers outlive the timeout.
        assert not _supervise(workers, lambda: [p.pid for p in workers.processes] != first, 3.0)
        hung = first[0]
        os.kill(hung, signal.SIGSTOP)  # its loop stops as a deadlocked one would
        stopped_at = time.monotonic()
        assert _supervise(workers, lambda: workers.processes[0].pid != hung, 10.0)
        # The timeout runs from its last beat read, up to 0.15 s before it stopped.
        assert time.monotonic() - stopped_at >= 1.8
        assert told == [hung] and workers.processes[1].pid == first[1]
        replacement = workers.processes[0].pid
        assert not _supervise(workers, lambda: workers.processes[0].pid != replacement, 2.0)  # it beats
    finally:
        _stop(workers)


def test_a_worker_that_never_beats_is_killed_after_the_start_allowance(sock: socket.socket) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(60)"]
    workers = SocketWorkers(silent, dict(os.environ), sock, 1, timeout_s=0.2, startup_s=0.5)
    try:
        deadline = time.monotonic() + 15
        verdicts: list[bool] = []
        while time.monotonic() < deadline and False not in verdicts:
            verdicts.append(workers.keep_alive())
            time.sleep(0.05)
        # Killed after 0.5 s each time, three times within SHORT_LIFE_S: the service stops.
        assert verdicts[-1] is False and workers.processes[0].returncode == -signal.SIGKILL
    finally:
        _stop(workers)


def test_without_a_timeout_workers_get_no_heartbeat_pipe(sock: socket.socket) -> None:
    shows = [
        sys.executable,
        "-c",
        f"import os, sys; sys.exit(7 if '{HEARTBEAT_FD.name}' in os.environ else 0)",
    ]
    workers = SocketWorkers(shows, dict(os.environ), sock, 1)
    assert workers.processes[0].wait() == 0
    workers.close()


def test_a_worker_that_cannot_start_stops_the_service(sock: socket.socket) -> None:
    workers = SocketWorkers(_exiting(STARTUP_FAILURE), dict(os.environ), sock, 1)
    workers.processes[0].wait()
    assert not workers.keep_alive()


def test_a_worker_that_keeps_dying_young_stops_the_service(sock: socket.socket) -> None:
    workers = SocketWorkers(_exiting(1), dict(os.environ), sock, 1)
    verdicts = []
    for _ in range(socket_workers.SHORT_LIVES):
        workers.processes[0].wait()
        verdicts.append(workers.keep_alive())
    assert verdicts == [True] * (socket_workers.SHORT_LIVES - 1) + [False]


def test_a_worker_that_lived_is_replaced_every_time(
    sock: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket_workers, "SHORT_LIFE_S", 0.0)  # every life counts as long
    workers = SocketWorkers(_exiting(1), dict(os.environ), sock, 1)
    for _ in range(socket_workers.SHORT_LIVES + 2):
        workers.processes[0].wait()
        assert workers.keep_alive()
    _stop(workers)


def test_accepted_connections_have_nagle_off_even_through_uvicorns_fd(sock: socket.socket) -> None:
    # uvicorn's `--fd` does this: the descriptor wrapped as AF_UNIX, so asyncio never sets TCP_NODELAY.
    as_uvicorn_wraps_it = socket.fromfd(sock.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
    with socket.create_connection(sock.getsockname()), as_uvicorn_wraps_it:
        accepted, _ = as_uvicorn_wraps_it.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_taken_port_is_an_error_before_anything_starts(sock: socket.socket) -> None:
    with pytest.raises(OSError):
        listen("127.0.0.1", sock.getsockname()[1])


def test_connections_wait_for_workers_that_are_still_starting(sock: socket.socket) -> None:
    port = sock.getsockname()[1]
    early = socket.create_connection(("127.0.0.1", port), timeout=10)  # no worker yet: queued, not refused
    time.sleep(0.2)
    command = [sys.executable, "-c", ANSWER_PID, str(sock.fileno())]
    workers = SocketWorkers(command, dict(os.environ), sock, 1)
    try:
        assert int(early.recv(32)) == workers.processes[0].pid
    finally:
        early.close()
        _stop(workers)
