"""`imgedge serve`: the generator and the proxy as two uvicorn processes, stopped together."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import httpx

from imgedge.secrets import load_or_create


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _uvicorn(factory: str, host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory, "--host", host, "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


def serve_command(args: argparse.Namespace) -> int:
    host = os.environ.get("IMGEDGE_HOST", "127.0.0.1")
    port = int(os.environ.get("IMGEDGE_PORT", "8080"))
    generator_port = int(os.environ.get("IMGEDGE_GENERATOR_PORT", "8081"))
    workers = args.workers or int(os.environ.get("IMGEDGE_WORKERS", "1"))
    data_dir = Path(os.environ.get("IMGEDGE_DATA_DIR", "data"))
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("signing.key", "origin.token", "admin.token"):
        load_or_create(data_dir, name)  # once, before several processes race to create them

    generator = subprocess.Popen(_uvicorn("generator.app:create_app_from_env", host, generator_port, 1))
    proxy = subprocess.Popen(_uvicorn("proxy.app:create_app_from_env", host, port, workers))
    children = (proxy, generator)

    def stop(signum: int, _frame: types.FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        ready = _wait_healthy(f"http://{host}:{generator_port}/healthz", generator, args.startup_timeout)
        ready = ready and _wait_healthy(f"http://{host}:{port}/healthz", proxy, args.startup_timeout)
        if not ready:
            print("imgedge serve: a service failed to start; see the log above", file=sys.stderr)
            return 1
        print(f"imgedge is up\n  playground: http://{host}:{port}/\n  generator:  http://{host}:{generator_port}/",
              flush=True)  # fmt: skip
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("imgedge serve: a service exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the generator and the proxy")
    p.add_argument(
        "--workers", type=int, default=0, help="proxy worker processes (default IMGEDGE_WORKERS or 1)"
    )
    p.add_argument("--startup-timeout", type=float, default=300.0)
    p.set_defaults(func=serve_command)
