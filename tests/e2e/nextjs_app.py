"""The example Next.js app (examples/nextjs) as a site runs it: `npm ci`, `next build`, `next start`."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

APP = Path(__file__).resolve().parents[2] / "examples" / "nextjs"
MIN_NODE = (20, 9)  # what next@16 declares in its engines field
STAMP = APP / "node_modules" / ".imgedge-installed"


def node_problem() -> str | None:
    """Why the app cannot run here, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "Node.js and npm are not installed (make system-deps installs them)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", version)
    if match is None or (int(match[1]), int(match[2])) < MIN_NODE:
        return f"Next.js 16 needs Node.js {MIN_NODE[0]}.{MIN_NODE[1]} or later, this machine has {version}"
    return None


def node_env(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("IMGEDGE_", "NEXT_"))}
    return environ | {"NEXT_TELEMETRY_DISABLED": "1", "npm_config_update_notifier": "false", **extra}


def _run(args: list[str], env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(args, cwd=APP, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def install() -> None:
    """`npm ci` when node_modules is missing or older than the lock file; kept between test runs."""
    lock = hashlib.sha256((APP / "package-lock.json").read_bytes() + (APP / "package.json").read_bytes())
    if STAMP.exists() and STAMP.read_text() == lock.hexdigest():
        return
    _run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], node_env(), timeout=600)
    STAMP.write_text(lock.hexdigest())


def build(proxy_url: str) -> None:
    # images.path is fixed at build time, so the app is built for this proxy's address.
    _run(["npx", "--no-install", "next", "build"], node_env(NEXT_PUBLIC_IMGEDGE_URL=proxy_url), timeout=600)


@contextlib.contextmanager
def started(port: int, **env: str) -> Iterator[str]:
    """`next start` on 127.0.0.1:port until the block ends; the whole process group is stopped."""
    args = ["npx", "--no-install", "next", "start", "--hostname", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        args, cwd=APP, env=node_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"next start exited with {process.returncode}:\n{output[-4000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/favicon.ico", timeout=5).status_code in (200, 404):
                return
        time.sleep(0.2)
    raise AssertionError("next start did not answer within 60 s")
