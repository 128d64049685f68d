"""The proxy's worker processes: each a uvicorn server accepting on one listening socket that `imgedge serve`
opens and hands down, with no uvicorn master between them.

`uvicorn --workers N` adds a supervising process (27-28 MiB) and multiprocessing's resource tracker (13 MiB)
to every proxy host; the soak counts both against the memory target (benchmarks/results/profile.md, "The
seventh round"). `imgedge serve` is there anyway, so it supervises: a worker that dies is replaced, as
uvicorn's master replaced it, and one that cannot start stops the service rather than looping. A worker whose
event loop stops beating (`imgedge.web.heartbeat`) is killed and replaced, as uvicorn's master killed one that
missed its health pings. Workers that run imgedge's event loop take turns at new connections through a table
of the connections each holds (`imgedge.web.balanced_accept`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from imgedge import common_settings as C
from imgedge.web.connection_table import create_table
from imgedge.web.heartbeat import RECORD

STARTUP_FAILURE = 3  # uvicorn's exit status when the app cannot start: a replacement would fail the same way
BACKLOG = 2048  # uvicorn's default
# A replacement that dies this soon after starting, this many times in a row, is not going to stay up.
SHORT_LIFE_S = 10.0
SHORT_LIVES = 3


def listen(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on, bound as uvicorn binds its own (IPv6 when the host is)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn's `--fd` wraps the descriptor as AF_UNIX, so asyncio does not turn Nagle off on the
        # connections it accepts; Linux copies this to each of them instead. Without it a response written
        # in two sends waited for the client's delayed ACK: hits ran at 1,460 req/s, p99 48 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)  # connections wait in the kernel while the workers start
    except OSError:
        sock.close()
        raise
    return sock


def _exit_reason(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"status {code}"


@dataclass(slots=True)
class _Worker:
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    short_lives: int = 0  # deaths in a row of the workers in this place, each within SHORT_LIFE_S
    beat: float | None = None  # when its event loop last wrote to the heartbeat pipe


class SocketWorkers:
    """`count` copies of `command`, which names the inherited socket's descriptor (`--fd`).

    With `timeout_s`, each worker is given the write end of one pipe (IMGEDGE_HEARTBEAT_FD) and killed when it
    has not beaten for that long, or, before its first beat, for `startup_s`. With more than one, each is
    given the connection table (IMGEDGE_CONNECTION_TABLE_FD) and its place in it (IMGEDGE_WORKER_INDEX), which
    a replacement takes over."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        sock: socket.socket,
        count: int,
        on_exit: Callable[[int], None] = lambda pid: None,
        *,
        timeout_s: float = 0.0,
        startup_s: float = 300.0,
    ) -> None:
        self._command = list(command)
        self._env = dict(env)
        self._sock = sock
        self._on_exit = on_exit  # told each dead worker's pid, once (its per-process metrics files)
        self._timeout_s = timeout_s
        self._startup_s = startup_s
        self._inherited = [sock.fileno()]
        self._beats: tuple[int, int] | None = None  # the heartbeat pipe's read and write ends
        if timeout_s > 0:
            self._beats = os.pipe()
            for end in self._beats:
                os.set_blocking(end, False)  # neither a worker nor this loop ever waits on the other
            self._env[C.HEARTBEAT_FD.name] = str(self._beats[1])
            self._inherited.append(self._beats[1])
        self._table: int | None = None
        if count > 1:
            self._table = create_table(count)
            self._env[C.CONNECTION_TABLE_FD.name] = str(self._table)
            self._inherited.append(self._table)
        self._workers = [_Worker(self._spawn(place)) for place in range(count)]

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [worker.process for worker in self._workers]

    def _spawn(self, place: int) -> subprocess.Popen[bytes]:
        env = {**self._env, C.WORKER_INDEX.name: str(place)}
        return subprocess.Popen(self._command, env=env, pass_fds=self._inherited)

    def close(self) -> None:
        """Closes the heartbeat pipe and the connection table (the workers are the caller's to stop)."""
        if self._beats is not None:
            for end in self._beats:
                os.close(end)
            self._beats = None
        if self._table is not None:
            os.close(self._table)
            self._table = None

    def poll(self) -> int | None:
        """While starting: the exit status of a worker that stopped (the start failed), else None."""
        for process in self.processes:
            code = process.poll()
            if code is not None:
                return code
        return None

    def keep_alive(self) -> bool:
        """Kills hung workers and replaces dead ones; False when one cannot start or keeps dying young (stop
        the service)."""
        if self._beats is not None:
            self._read_beats(self._beats[0])
            self._kill_hung()
        for place, worker in enumerate(self._workers):
            code = worker.process.poll()
            if code is None:
                continue
            pid = worker.process.pid
            self._on_exit(pid)
            young = time.monotonic() - worker.started < SHORT_LIFE_S
            short_lives = worker.short_lives + 1 if young else 0
            if code == STARTUP_FAILURE or short_lives >= SHORT_LIVES:
                print(
                    f"imgedge serve: proxy worker {pid} could not stay up ({_exit_reason(code)})",
                    file=sys.stderr,
                )
                return False
            print(
                f"imgedge serve: proxy worker {pid} exited ({_exit_reason(code)}); starting another",
                file=sys.stderr,
            )
            self._workers[place] = _Worker(self._spawn(place), short_lives=short_lives)
        return True

    def _read_beats(self, pipe: int) -> None:
        now = time.monotonic()
        by_pid = {worker.process.pid: worker for worker in self._workers}
        while True:
            try:
                beats = os.read(pipe, RECORD.size * 1024)
            except BlockingIOError:
                return
            if not beats:
                return
            for (pid,) in RECORD.iter_unpack(beats):
                if pid in by_pid:  # a replaced worker's last beats may still be in the pipe
                    by_pid[pid].beat = now

    def _kill_hung(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            since, allowed = (
                (worker.started, self._startup_s) if worker.beat is None else (worker.beat, self._timeout_s)
            )
            if now - since <= allowed or worker.process.poll() is not None:
                continue
            print(
                f"imgedge serve: proxy worker {worker.process.pid} has not run its event loop for "
                f"{now - since:.0f} s; killing it",
                file=sys.stderr,
            )
            worker.process.kill()  # SIGKILL: a stopped or deadlocked process would not act on SIGTERM
            worker.process.wait()
