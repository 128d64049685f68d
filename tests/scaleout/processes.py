"""Real processes the scale-out tests run on 127.0.0.1: redis-server, varnishd, imgedge, uvicorn."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from imgedge.web.uvicorn_args import UVICORN_ARGS
from tests.conftest import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
VCL = REPO_ROOT / "deploy" / "varnish" / "default.vcl"
IMGEDGE = [sys.executable, "-m", "imgedge.cli"]
# Start-up guards only: they stop a hung start, and assert nothing about speed.
STARTUP_S = 180.0


def binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed; `make test` installs it (apt-get install -y {package})")
    return found


def wait_http(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        if process is not None and process.poll() is not None:
            pytest.fail(f"process for {url} exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def redis_server(port: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="imgedge-scaleout-redis-") as workdir:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", workdir]  # fmt: skip
        process = subprocess.Popen([binary("redis-server", "redis-server"), *args], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                client = redis.Redis.from_url(url)
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("redis-server did not answer PING")
                    time.sleep(0.05)
                finally:
                    client.close()
            yield url
        finally:
            stop(process)


@contextlib.contextmanager
def varnishd(port: int, backend_port: int, workdir: Path) -> Iterator[str]:
    """The shipped VCL with its placeholder backend pointed at backend_port."""
    workdir.mkdir(parents=True, exist_ok=True)
    vcl = workdir / "default.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8080";', f'.port = "{backend_port}";'))
    args = [
        binary("varnishd", "varnish"), "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl),
        "-n", str(workdir / "instance"), "-s", "malloc,64m", "-T", "127.0.0.1:0",
        # No jail: as root the unix jail would drop to the `varnish` user, which cannot read pytest's
        # private temp dirs; as another user it cannot switch users at all. Production keeps the jail.
        "-j", "none",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def imgedge(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run([*IMGEDGE, *args], env=dict(env), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextlib.contextmanager
def imgedge_serve(env: Mapping[str, str]) -> Iterator[None]:
    process = subprocess.Popen([*IMGEDGE, "serve", "--no-sample"], env=dict(env))
    try:
        wait_http(f"http://127.0.0.1:{env['IMGEDGE_GENERATOR_PORT']}/healthz", process)
        wait_http(f"http://127.0.0.1:{env['IMGEDGE_PORT']}/healthz", process)
        yield
    finally:
        stop(process)


@contextlib.contextmanager
def uvicorn_app(factory: str, port: int, env: Mapping[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", *UVICORN_ARGS]  # fmt: skip
    process = subprocess.Popen(command, env=dict(env))
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process)
        yield process
    finally:
        stop(process)


def clean_env(**settings: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    return environ | settings


class Worker:
    """`imgedge worker` in its own process; its log lines (JSON on stderr) are collected as they arrive."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.metrics_port = free_port()
        command = [
            sys.executable, "-m", "imgedge.cli", "worker", "--name", name,
            "--metrics-port", str(self.metrics_port),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        stop(self.process)
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        self.process.stderr.close()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._arrived:
                self.lines.append(line.strip())
                self._arrived.notify_all()

    def events(self) -> list[str]:
        """The worker's announcements, from its JSON log lines."""
        with self._arrived:
            records = [json.loads(line) for line in self.lines if line.startswith("{")]
        return [r["event"] for r in records if r.get("worker") == self.name and "event" in r]

    def saw(self, text: str) -> bool:
        return any(text in event for event in self.events())

    def wait_for(self, text: str) -> None:
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: any(text in line for line in self.lines), timeout=STARTUP_S
            ):
                pytest.fail(f"worker {self.name} never said {text!r}: {self.lines}")
