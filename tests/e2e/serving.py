"""Start `imgedge serve` as a user would, on free ports with its own data directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port

IMGEDGE = [sys.executable, "-m", "imgedge.cli"]


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    environ |= {
        "IMGEDGE_DATA_DIR": str(data_dir),
        "IMGEDGE_PORT": str(free_port()),
        "IMGEDGE_GENERATOR_PORT": str(free_port()),
        **extra,
    }
    return environ


def imgedge(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*IMGEDGE, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextlib.contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([*IMGEDGE, "serve", *args], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "playground:" in line:
            break
    try:
        assert any("playground:" in line for line in lines), f"serve did not come up: {lines}"
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        process.stdout.close()
