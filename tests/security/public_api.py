"""A public generation API as an operator runs one: the generator alone under uvicorn with imgedge's protocol,
anonymous use allowed (IMGEDGE_ALLOW_ANONYMOUS=1, with the anonymous caps) beside API keys made with
`imgedge keys create`: one with caps of its own, one without. Generation stays tiny (at most 128x128, two
steps) so accepted jobs cost little."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from imgedge.web.uvicorn_args import UVICORN_ARGS
from tests.conftest import free_port, photo
from tests.scaleout.processes import stop

IMGEDGE = [sys.executable, "-m", "imgedge.cli"]
ADMIN_TOKEN = "public-api-admin-token"
HELD_WORD = "heldforreview"
MAX_SIDE = 128
ANON_MAX_PIXELS = 8192
CAPPED_PIXELS, CAPPED_STEPS = 64 * 64, 1
KEYS = {"capped": ["--max-pixels", str(CAPPED_PIXELS), "--max-steps", str(CAPPED_STEPS)], "plain": []}


@dataclass
class PublicApi:
    url: str
    keys: dict[str, str]  # name -> the key itself
    ingested: str  # an approved asset's id

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    return env | {
        "IMGEDGE_DATA_DIR": str(data_dir),
        "IMGEDGE_GENERATOR_PORT": str(port),
        "IMGEDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "IMGEDGE_ALLOW_ANONYMOUS": "1",
        "IMGEDGE_RATE_PER_MINUTE": "100000",
        "IMGEDGE_RATE_BURST": "100000",
        "IMGEDGE_MAX_SIDE": str(MAX_SIDE),
        "IMGEDGE_MAX_STEPS": "2",
        "IMGEDGE_DEFAULT_STEPS": "1",
        "IMGEDGE_ANON_MAX_PIXELS": str(ANON_MAX_PIXELS),
        "IMGEDGE_MODERATION_REVIEW_PATTERNS": HELD_WORD,
        "IMGEDGE_WARM_ON_START": "0",
        "IMGEDGE_EAGER_VARIANTS": "0",
        "IMGEDGE_PROXY_URL": "http://127.0.0.1:9",  # nothing listens: purges wait in the outbox
    }


def _prepare(env: dict[str, str], tmp: Path) -> tuple[str, dict[str, str]]:
    """An ingested original and the keys, made as an operator makes them, before the service starts."""
    picture = tmp / "coffee.png"
    photo("coffee", 96).write_to_file(str(picture))
    done = subprocess.run([*IMGEDGE, "ingest", str(picture)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    keys = {}
    for name, options in KEYS.items():
        made = subprocess.run(
            [*IMGEDGE, "keys", "create", "--name", name, *options], env=env, capture_output=True, text=True
        )
        assert made.returncode == 0, made.stderr
        keys[name] = made.stdout.strip()
    return done.stdout.split()[0], keys


def run_public_api(tmp: Path) -> Iterator[PublicApi]:
    port = free_port()
    env = _env(tmp / "data", port)
    ingested, keys = _prepare(env, tmp)
    log = tmp / "generator.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "imgedge.generator.app:create_app_from_env",
               "--host", "127.0.0.1", "--port", str(port), *UVICORN_ARGS, "--no-access-log"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "Application startup complete" not in log.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        yield PublicApi(f"http://127.0.0.1:{port}", keys, ingested)
    finally:
        stop(process)
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")
