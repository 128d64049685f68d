"""Per-request cost of the storage backends: the embedded ones (filesystem store + SQLite) against the
engines of a multi-host setup (S3 + PostgreSQL), measured side by side in one run.

`python -m benchmarks.backends [--requests N] [--rounds R]`. Two generator APIs (`imgedge serve --only
generator`) run at once, one per backend pair, each with jobs going to a Redis queue that no worker drains
(so an enqueue is the API's own work). Rounds alternate between them, and their order flips every round, so
the machine's noise falls on both alike. Each request is timed on its own over one keep-alive connection:
an origin fetch (GET /originals/{id}, what the proxy does on a miss), an asset lookup (GET /v1/images/{id})
and a job enqueue (POST /v1/images). S3 is `rclone serve s3` and PostgreSQL a local cluster, both on
127.0.0.1: the numbers are the software's cost, without the network round trips a real deployment adds.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pyvips
import skimage.data

from benchmarks.ports import free_port
from benchmarks.processes import start, stop, wait_http
from benchmarks.stats import median, percentile
from tests.engines.postgres import postgres_cluster
from tests.engines.s3 import rclone_s3

RESULTS = Path(__file__).resolve().parent / "results" / "backends.md"
IMGEDGE = [sys.executable, "-m", "imgedge.cli"]
OPERATIONS = ("origin fetch", "asset lookup", "job enqueue")
SHARED_SECRETS = ("IMGEDGE_KEYS", "IMGEDGE_ORIGIN_TOKEN", "IMGEDGE_ADMIN_TOKEN", "IMGEDGE_UPLOAD_SECRET")
LABELS = {"embedded": "filesystem + SQLite", "engines": "S3 + PostgreSQL"}


@dataclass
class Api:
    name: str
    url: str
    asset_id: str = ""


def _common_env(redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    return env | {
        "IMGEDGE_QUEUE_REDIS_URL": redis_url, "IMGEDGE_JOB_QUEUE_SIZE": "1000000",
        "IMGEDGE_RATE_PER_MINUTE": "100000000", "IMGEDGE_RATE_BURST": "1000000",
        "IMGEDGE_WARM_ON_START": "0", "IMGEDGE_EAGER_VARIANTS": "0", "IMGEDGE_ACCESS_LOG": "off",
    }  # fmt: skip


@contextlib.contextmanager
def redis(port: int, workdir: Path) -> Iterator[str]:
    process = start(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        env=dict(os.environ), log=workdir / "redis.log",
    )  # fmt: skip
    try:
        time.sleep(0.3)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(process)


@contextlib.contextmanager
def apis(scratch: Path) -> Iterator[list[Api]]:
    """The same generator twice: on the embedded backends, and on S3 + PostgreSQL."""
    with (
        redis(free_port(), scratch) as redis_url,
        postgres_cluster(durable=True) as pg,
        rclone_s3(scratch / "s3") as s3,
    ):
        s3.make_bucket("originals")
        engines = {
            **s3.env(), "IMGEDGE_STORE_URL": "s3://originals/bench",
            "IMGEDGE_DATABASE_URL": pg.create_database(),
            # Shared backends take every secret from the environment.
            **{name: secrets.token_urlsafe(16) for name in SHARED_SECRETS},
            # Standard Webhooks secrets are `whsec_` + base64.
            "IMGEDGE_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        }  # fmt: skip
        setups = {"embedded": {"IMGEDGE_QUEUE_REDIS_URL": redis_url + "/2"},
                  "engines": {**engines, "IMGEDGE_QUEUE_REDIS_URL": redis_url + "/3"}}  # fmt: skip
        processes, found = [], []
        try:
            for name, settings in setups.items():
                port = free_port()
                env = _common_env(redis_url) | settings
                env |= {"IMGEDGE_DATA_DIR": str(scratch / name), "IMGEDGE_GENERATOR_PORT": str(port)}
                command = [*IMGEDGE, "serve", "--only", "generator", "--no-sample"]
                processes.append(start(command, env=env, log=scratch / f"{name}.log"))
                found.append(Api(name, f"http://127.0.0.1:{port}"))
            for process, api in zip(processes, found, strict=True):
                wait_http(api.url + "/healthz", process, timeout_s=180, log=scratch / f"{api.name}.log")
            yield found
        finally:
            for process in processes:
                stop(process)


def original_png() -> bytes:
    """A real photo as a 1024x1024 PNG, about the size of what the generator keeps."""
    image = pyvips.Image.new_from_array(skimage.data.astronaut(), interpretation="srgb")
    return bytes(image.thumbnail_image(1024, height=1024, size="force").write_to_buffer(".png"))


def upload(client: httpx.Client, api: Api, png: bytes) -> None:
    grant = client.post(f"{api.url}/v1/uploads", json={})
    grant.raise_for_status()
    stored = client.put(urljoin(f"{api.url}/", grant.json()["upload_url"]), content=png)
    stored.raise_for_status()
    api.asset_id = stored.json()["asset_id"]


def requests_for(api: Api) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    job = {"prompt": "benchmark", "width": 64, "height": 64, "steps": 1, "seed": 1}
    return {
        "origin fetch": lambda c: c.get(f"{api.url}/originals/{api.asset_id}"),
        "asset lookup": lambda c: c.get(f"{api.url}/v1/images/{api.asset_id}"),
        "job enqueue": lambda c: c.post(f"{api.url}/v1/images", json=job),
    }


def timed(client: httpx.Client, send: Callable[[httpx.Client], httpx.Response], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = send(client)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        times.append(elapsed)
    return times


def measure(found: list[Api], requests: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {api.name: {op: [] for op in OPERATIONS} for api in found}
    with httpx.Client(timeout=60) as client:
        png = original_png()
        for api in found:
            upload(client, api, png)
            for send in requests_for(api).values():
                timed(client, send, max(5, requests // 10))  # warm-up: connections, caches, pools
        for round_index in range(rounds):
            order = found if round_index % 2 == 0 else list(reversed(found))
            for op in OPERATIONS:
                for api in order:
                    samples[api.name][op] += timed(client, requests_for(api)[op], requests)
    return samples


def report(samples: dict[str, dict[str, list[float]]], requests: int, rounds: int) -> str:
    base, other = samples["embedded"], samples["engines"]
    lines = [
        "# Storage backends: per-request cost",
        "",
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores with "
        "`python -m benchmarks.backends`: the same generator API on each pair of backends, side by side in "
        f"one run ({rounds} interleaved rounds x {requests} sequential requests per cell, one keep-alive "
        "connection; the original is a 1024x1024 PNG). S3 is `rclone serve s3` and PostgreSQL a local "
        "cluster, both on 127.0.0.1, so a real deployment adds its network round trips on top.",
        "",
        f"| request | {LABELS['embedded']} p50 | {LABELS['engines']} p50 | added per request | ratio "
        f"| {LABELS['embedded']} p90 | {LABELS['engines']} p90 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in OPERATIONS:
        a, b = median(base[op]) * 1000, median(other[op]) * 1000
        a90, b90 = percentile(base[op], 90) * 1000, percentile(other[op], 90) * 1000
        cells = (
            f"{a:.2f} ms",
            f"{b:.2f} ms",
            f"{b - a:+.2f} ms",
            f"{b / a:.2f}x",
            f"{a90:.2f} ms",
            f"{b90:.2f} ms",
        )
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per operation, backend and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the markdown table goes")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="imgedge-bench-backends-") as scratch,
        apis(Path(scratch)) as found,
    ):
        text = report(measure(found, args.requests, args.rounds), args.requests, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
