"""thumbor 7.8 in its own virtualenv, file loader on the same originals, the same output settings."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks import processes

VERSION = "7.8.*"

# No result storage and no source storage: every request loads, decodes, resizes and encodes, as an
# uncached imgedge request does (thumbor's file loader reads the page-cached file, imgedge its cached pixels).
_CONFIG = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
AUTO_WEBP = False
QUALITY = {quality}
WEBP_QUALITY = {quality}
ALLOW_UNSAFE_URL = True
RESPECT_ORIENTATION = True
MAX_AGE = 86400
NON_BLOCKING_SOCKETS = True
"""


def ensure_venv(venv: Path) -> Path:
    thumbor = venv / "bin" / "thumbor"
    if not thumbor.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", f"thumbor=={VERSION}"]
        subprocess.run(pip, check=True, timeout=900)
    return thumbor


def installed_version(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "thumbor"), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    return (done.stdout or done.stderr).strip().split()[-1] if done.returncode == 0 else "?"


def path(file_name: str, *, width: int = 400, fmt: str = "webp", quality: int = 80) -> str:
    return f"/unsafe/{width}x0/filters:format({fmt}):quality({quality})/{file_name}"


@dataclass(slots=True)
class ThumborServer:
    process: subprocess.Popen[bytes]
    base_url: str

    @classmethod
    def start(
        cls, venv: Path, *, root: Path, port: int, processes_count: int, log: Path, quality: int = 80
    ) -> ThumborServer:
        thumbor = ensure_venv(venv)
        conf = log.parent / "thumbor.conf"
        conf.write_text(_CONFIG.format(root=str(root.resolve()), quality=quality))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        # One single-process thumbor per socket, every socket on the same port (SO_REUSEPORT), so the kernel
        # spreads connections over the processes. thumbor's own --processes forks after binding one socket,
        # and the process that wakes first accepts every waiting connection: a client's 8 connections all
        # went to one process in 11 of 14 rounds measured, and thumbor ran on one core of two.
        sockets = [_listening(port) for _ in range(processes_count)]
        try:
            options = ["--conf", str(conf), "--log-level", "error"]
            commands = [shlex.join([str(thumbor), "--fd", str(s.fileno()), *options]) for s in sockets]
            # The last one replaces the shell, so the service is one process tree under one pid.
            script = " & ".join([*commands[:-1], f"exec {commands[-1]}"])
            fds = tuple(s.fileno() for s in sockets)
            process = processes.start(["sh", "-c", script], env=env, log=log, pass_fds=fds)
        finally:
            for s in sockets:
                s.close()  # ours would take a share of the connections and never accept them
        base_url = f"http://127.0.0.1:{port}"
        processes.wait_http(f"{base_url}/healthcheck", process, timeout_s=120, log=log)
        return cls(process, base_url)

    def stop(self) -> None:
        processes.stop(self.process)


def _listening(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)  # tornado accepts until the socket would block
    return sock
