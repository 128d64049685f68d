"""Start services as process groups, wait until they answer, stop them (and only them) afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx


class ServiceFailed(RuntimeError):
    pass


def start(
    argv: list[str],
    *,
    env: dict[str, str],
    log: Path,
    cwd: Path | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # A new session, so stopping the service reaches its workers and nothing else of ours.
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
            pass_fds=pass_fds,
        )  # fmt: skip


def wait_http(url: str, process: subprocess.Popen[bytes], *, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceFailed(f"{url}: process exited with {process.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    raise ServiceFailed(f"{url}: not answering after {timeout_s:.0f} s; see {log}")


def stop(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
