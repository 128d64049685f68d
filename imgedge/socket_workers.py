"""The proxy's worker processes: each a uvicorn server accepting on one listening socket that `imgedge serve`
opens and hands down, with no uvicorn master between them.

`uvicorn --workers N` adds a supervising process (27-28 MiB) and multiprocessing's resource tracker (13 MiB)
to every proxy host; the soak counts both against the memory target (benchmarks/results/profile.md, "The
seventh round"). `imgedge serve` is there anyway, so it supervises: a worker that dies is replaced, as
uvicorn's master replaced it, and one that cannot start stops the service rather than looping.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


class SocketWorkers:
    """`count` copies of `command`, which names the inherited socket's descriptor (`--fd`)."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        sock: socket.socket,
        count: int,
        on_exit: Callable[[int], None] = lambda pid: None,
    ) -> None:
        self._command = list(command)
        self._env = env
        self._sock = sock
        self._on_exit = on_exit  # told each dead worker's pid, once (its per-process metrics files)
        self._workers = [_Worker(self._spawn()) for _ in range(count)]

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [worker.process for worker in self._workers]

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, env=self._env, pass_fds=(self._sock.fileno(),))

    def poll(self) -> int | None:
        """While starting: the exit status of a worker that stopped (the start failed), else None."""
        for process in self.processes:
            code = process.poll()
            if code is not None:
                return code
        return None

    def keep_alive(self) -> bool:
        """Replaces dead workers; False when one cannot start or keeps dying young (stop the service)."""
        for worker in self._workers:
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
            worker.process, worker.started, worker.short_lives = self._spawn(), time.monotonic(), short_lives
        return True
