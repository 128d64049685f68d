from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from imgedge.cache.entry import Entry

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("cache_worker.py")


def _make_entry(
    body: bytes = b"x" * 100, *, tags: tuple[str, ...] = ("asset:a",), created_at: float = 0.0
) -> Entry:
    return Entry(
        body=body,
        media_type="image/webp",
        etag='"e1"',
        tags=tags,
        created_at=created_at or time.time(),
        headers=(("Cache-Control", "public, max-age=60"),),
    )


@pytest.fixture
def make_entry() -> Callable[..., Entry]:
    """Entry factory: make_entry(body=..., tags=(...), created_at=...)."""
    return _make_entry


async def _spawn_worker(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        *args,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


@pytest.fixture
def spawn_worker() -> Callable[..., Awaitable[asyncio.subprocess.Process]]:
    """Starts tests/cache/cache_worker.py as a separate process, stdin and stdout piped."""
    return _spawn_worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed; `make test` installs it "
            "(apt-get install -y redis-server). Redis tests are never skipped."
        )
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="imgedge-redis-") as workdir:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        proc = subprocess.Popen(
            [binary, *args, "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for_ping(url, proc)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    with running_redis_server() as (url, _):
        yield url


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of the test's own, which it may stop."""
    with running_redis_server() as server:
        yield server


def _wait_for_ping(url: str, proc: subprocess.Popen[bytes]) -> None:
    # Start-up guard only: gives up if the server never answers, asserts nothing about speed.
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"redis-server exited with {proc.returncode} before answering PING")
        client = redis.Redis.from_url(url)
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not answer PING")
            time.sleep(0.05)
        finally:
            client.close()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_server
