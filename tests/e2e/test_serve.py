"""`imgedge serve`, `imgedge ingest` and `imgedge url` as a user runs them, in subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from tests.conftest import free_port

IMGEDGE = [sys.executable, "-m", "imgedge.cli"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("serve") / "data"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    environ |= {
        "IMGEDGE_DATA_DIR": str(data),
        "IMGEDGE_PORT": str(free_port()),
        "IMGEDGE_GENERATOR_PORT": str(free_port()),
        "IMGEDGE_WORKERS": "2",  # purges must reach the memory tier of both worker processes
    }
    return environ


def imgedge(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*IMGEDGE, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([*IMGEDGE, "serve"], env=env, stdout=subprocess.PIPE, text=True)
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
    assert any("playground:" in line for line in lines), f"serve did not come up: {lines}"
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    process.stdout.close()


def test_ingest_url_and_fetch(env: dict[str, str], server: subprocess.Popen[str], tmp_path: Path,
                              landscape_png: bytes) -> None:  # fmt: skip
    source = tmp_path / "coffee.png"
    source.write_bytes(landscape_png)
    asset_id = imgedge(env, "ingest", str(source))
    assert len(asset_id.splitlines()) == 1
    path = imgedge(
        env, "url", asset_id, "--width", "300", "--height", "200", "--fit", "cover", "--format", "webp"
    )
    base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    response = httpx.get(base + path, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (300, 200)
    auto = httpx.get(base + imgedge(env, "url", asset_id, "--width", "100"), headers={"Accept": "image/webp"})
    assert auto.headers["content-type"] == "image/webp" and auto.headers["vary"] == "Accept"
    tampered = httpx.get(base + path.replace("w:300", "w:301"))
    assert tampered.status_code == 403


def test_purge_reaches_every_worker(env: dict[str, str], server: subprocess.Popen[str], tmp_path: Path,
                                    photo_png: bytes) -> None:  # fmt: skip
    source = tmp_path / "astronaut.png"
    source.write_bytes(photo_png)
    asset_id = imgedge(env, "ingest", str(source))
    url = f"http://127.0.0.1:{env['IMGEDGE_PORT']}" + imgedge(env, "url", asset_id, "--width", "123")
    with httpx.Client(timeout=60) as client:
        statuses = [
            client.get(url, headers={"Connection": "close"}).headers["cache-status"] for _ in range(12)
        ]
        assert statuses[0] == "imgedge; fwd=miss; stored"
        assert all(s.startswith("imgedge; hit") for s in statuses[1:])
        imgedge(env, "purge", asset_id)
        after = client.get(url, headers={"Connection": "close"})
        assert after.status_code == 200 and after.headers["cache-status"] == "imgedge; fwd=miss; stored"


def test_serve_stops_cleanly_on_sigterm(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
