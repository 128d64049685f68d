"""The red-team suite's target: `imgedge serve` as a user runs it (uvicorn with imgedge's protocol, both
services as their own processes), attacked over real sockets from 127.0.0.1. 127.0.0.2 plays the one trusted
proxy (IMGEDGE_TRUSTED_PROXIES), so a test can be "the client 198.51.100.7 behind the CDN" with its own rate
limit bucket. Memory is read from /proc for the attacked process itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path
from tests.conftest import free_port, photo
from tests.scaleout.processes import stop
from tests.security.public_api import PublicApi, run_public_api

MIB = 1 << 20
TRUSTED_PROXY = "127.0.0.2"
DEADLINE_S = 1.5
HEADER_TIMEOUT_S = 1.0
TRANSFORM_MEMORY = 300 * MIB
METRICS_TOKEN = "metrics-secret"
LISTED_ORIGIN = "https://app.example"
BLOCKED_WORD = "forbidden"
REVIEW_WORD = "borderline"
IMGEDGE = [sys.executable, "-m", "imgedge.cli"]


@dataclass
class Edge:
    process: subprocess.Popen[bytes]
    port: int
    generator_port: int
    data_dir: Path
    log: Path
    photo: str  # a 1024x1024 photo's asset id
    large: str  # a 4000x4000 original, for transforms that cost
    admin_token: str

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def generator(self) -> str:
        return f"http://127.0.0.1:{self.generator_port}"

    @property
    def key(self) -> bytes:
        return load_signing_keys(self.data_dir)[0]

    def url(self, asset_id: str, **options: Any) -> str:
        return build_path(asset_id, key=self.key, **options)

    def pid(self, service: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split():
            if f"imgedge.{service}.app".encode() in Path(f"/proc/{line}/cmdline").read_bytes():
                return int(line)
        raise AssertionError(f"no {service} process under imgedge serve")

    def rss(self, service: str) -> int:
        for line in Path(f"/proc/{self.pid(service)}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def client(self, service: str = "generator", *, behind: str | None = None) -> httpx.Client:
        """A client of one service; `behind="198.51.100.7"`: that client, through the trusted proxy."""
        base = self.generator if service == "generator" else self.proxy
        if behind is None:
            return httpx.Client(base_url=base, timeout=60)
        transport = httpx.HTTPTransport(local_address=TRUSTED_PROXY)
        return httpx.Client(
            base_url=base, timeout=60, transport=transport, headers={"X-Forwarded-For": behind}
        )

    def answers(self) -> bool:
        with httpx.Client(timeout=20) as client:
            return (
                client.get(f"{self.proxy}/healthz").status_code == 200
                and client.get(f"{self.generator}/healthz").status_code == 200
                and client.get(self.proxy + self.url(self.photo, width=96)).status_code == 200
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def idle(edge: Edge, timeout_s: float = 120) -> None:
    """Waits until no transform holds a slot (an abandoned AVIF encode finishes on its own time) and no q:auto
    search runs in the background (every f:auto miss, the default format, starts one; each holds tens to
    hundreds of MiB while it runs)."""
    deadline = time.monotonic() + timeout_s
    auth = {"Authorization": f"Bearer {edge.admin_token}"}
    while time.monotonic() < deadline:
        stats = httpx.get(f"{edge.proxy}/admin/stats", headers=auth, timeout=10).json()
        transforms, quality = stats["transforms"], stats["quality"]
        if transforms["running"] == 0 and transforms["waiting"] == 0 and quality["searches"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError("transforms still running")


def settled_rss(edge: Edge, service: str) -> int:
    """RSS once the proxy's own background work has ended: a memory check measures the attack alone."""
    idle(edge)
    time.sleep(0.5)
    return edge.rss(service)


def _ingest(env: dict[str, str], images: dict[str, pyvips.Image], tmp: Path) -> dict[str, str]:
    paths = []
    for name, image in images.items():
        path = tmp / f"{name}.png"
        image.write_to_file(str(path), compression=1)
        paths.append(str(path))
    done = subprocess.run([*IMGEDGE, "ingest", *paths], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dict(zip(images, done.stdout.split(), strict=True))


def large_original(side: int) -> pyvips.Image:
    """Smooth, so it is quick to ingest; real pixels, so encoders and filters do real work."""
    xy = pyvips.Image.xyz(side, side)
    r = (xy[0] * 255 / side).cast("uchar")
    g = (xy[1] * 255 / side).cast("uchar")
    b = ((xy[0] + xy[1]) % 256).cast("uchar")
    return r.bandjoin([g, b]).copy(interpretation="srgb")


def serve_env(data_dir: Path, port: int, generator_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    return env | {
        "IMGEDGE_DATA_DIR": str(data_dir),
        "IMGEDGE_PORT": str(port),
        "IMGEDGE_GENERATOR_PORT": str(generator_port),
        "IMGEDGE_TRANSFORM_TIMEOUT": str(DEADLINE_S),
        # The deadline test needs an AVIF encode that outlasts the deadline: a 16 MP q100 AVIF took 5.6 s at
        # effort 2 on the fastest host seen, 1.2 s at the default effort 0 (benchmarks/results/encoders.md);
        # the test's 8 MP takes about half that.
        "IMGEDGE_AVIF_EFFORT": "2",
        "IMGEDGE_TRANSFORM_THREADS": "2",
        # One proxy process (serve's default is one per core): the memory budget and RSS are per process.
        "IMGEDGE_WORKERS": "1",
        "IMGEDGE_TRANSFORM_MEMORY": str(TRANSFORM_MEMORY),
        "IMGEDGE_HEADER_TIMEOUT": str(HEADER_TIMEOUT_S),
        "IMGEDGE_BODY_TIMEOUT": "1",
        "IMGEDGE_TRUSTED_PROXIES": TRUSTED_PROXY,
        "IMGEDGE_CORS_ORIGINS": LISTED_ORIGIN,
        "IMGEDGE_METRICS_TOKEN": METRICS_TOKEN,
        "IMGEDGE_MODERATION_BLOCKLIST": BLOCKED_WORD,
        "IMGEDGE_MODERATION_REVIEW_PATTERNS": REVIEW_WORD,
        "IMGEDGE_TEMPORARY_TTL": "1",
        "IMGEDGE_JANITOR_INTERVAL": "0.3",
        "IMGEDGE_RATE_PER_MINUTE": "60",
        "IMGEDGE_RATE_BURST": "5",
        "IMGEDGE_DEFAULT_STEPS": "2",
        "IMGEDGE_WARM_ON_START": "0",
        "IMGEDGE_EAGER_VARIANTS": "0",
        "IMGEDGE_ACCESS_LOG": "all",
    }


@pytest.fixture(scope="session")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    tmp = tmp_path_factory.mktemp("security")
    data_dir = tmp / "data"
    port, generator_port = free_port(), free_port()
    env = serve_env(data_dir, port, generator_port)
    ids = _ingest(env, {"photo": photo("astronaut", 1024), "large": large_original(4000)}, tmp)
    log = tmp / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*IMGEDGE, "serve", "--no-sample"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 300
        while "playground:" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "imgedge serve did not come up"
            time.sleep(0.2)
        admin = (data_dir / "secrets" / "admin.token").read_text().strip()
        yield Edge(process, port, generator_port, data_dir, log, ids["photo"], ids["large"], admin)
    finally:
        stop(process)


def report(name: str, **values: Any) -> None:
    """Measured numbers, one JSON line per attack, for the closing note (pytest -s shows them)."""
    print(f"\nsecurity: {name}: {json.dumps(values)}")


@pytest.fixture(scope="session")
def public_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicApi]:
    yield from run_public_api(tmp_path_factory.mktemp("public-api"))
