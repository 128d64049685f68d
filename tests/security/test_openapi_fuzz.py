"""schemathesis against the generator's own /openapi.json: every operation it describes, fuzzed over real
sockets against a running generator (uvicorn with imgedge's protocol, the tiny model), each answer checked
for a server error and against the description (status code, content type, response schema).

Half the cases reach past the front door: a path parameter becomes a real job, asset or fresh upload token,
and operations that need the admin token get it, so the 200s and 201s are checked as well as the 4xx.
Example counts are bounded so the module stays quick; it reports how many cases ran and for how long.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from imgedge.generator.http.openapi import PATHS
from imgedge.web.uvicorn_args import UVICORN_ARGS
from tests.conftest import free_port, photo
from tests.security.conftest import IMGEDGE, report

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Moderation decisions last: they change what the real assets answer to everyone else.
OPERATIONS = sorted(
    ((method, path) for path, item in PATHS.items() for method in item), key=lambda op: "/admin/" in op[1]
)
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
ADMIN_TOKEN = "fuzz-admin-token"
HELD_WORD = "heldforreview"
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}}, "warnings": False}
)


@dataclass
class Target:
    url: str
    ids: dict[str, list[str]]  # path parameter -> real values (jobs, assets of each moderation state)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    turn: Iterator[int] = field(default_factory=itertools.count)

    def upload_token(self) -> str:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            url: str = client.post("/v1/uploads", json={}).raise_for_status().json()["upload_url"]
        return url.rsplit("/", 1)[1]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    return env | {
        "IMGEDGE_DATA_DIR": str(data_dir),
        "IMGEDGE_GENERATOR_PORT": str(port),
        "IMGEDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "IMGEDGE_RATE_PER_MINUTE": "100000",
        "IMGEDGE_RATE_BURST": "100000",
        # Generation stays tiny (at most 128x128, one step anonymously), so accepted jobs cost little.
        "IMGEDGE_MAX_SIDE": "128",
        "IMGEDGE_MAX_STEPS": "2",
        "IMGEDGE_DEFAULT_STEPS": "1",
        "IMGEDGE_MODERATION_REVIEW_PATTERNS": HELD_WORD,
        "IMGEDGE_WARM_ON_START": "0",
        "IMGEDGE_EAGER_VARIANTS": "0",
        "IMGEDGE_PROXY_URL": "http://127.0.0.1:9",  # nothing listens: purges wait in the outbox
    }


def _wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _seed(url: str, ingested: str) -> dict[str, list[str]]:
    """A done job and assets in every moderation state: approved, pending, rejected."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=url, timeout=60) as client:
        held = [{"prompt": f"a {word}", "width": 64, "height": 64} for word in (HELD_WORD, f"{HELD_WORD} 2")]
        jobs = [client.post("/v1/images", json=body).json()["job_id"] for body in held]
        pending, rejected = (_wait_job(client, job)["asset_id"] for job in jobs)
        client.post(f"/v1/admin/assets/{rejected}/reject", headers=admin).raise_for_status()
    assets = [ingested, pending, rejected]
    return {"asset_id": assets, "job_id": jobs, "path": ["playground.js", "playground.css"]}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("openapi-fuzz")
    port = free_port()
    env = _env(tmp / "data", port)
    picture = tmp / "coffee.png"
    photo("coffee", 96).write_to_file(str(picture))
    done = subprocess.run([*IMGEDGE, "ingest", str(picture)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    log = tmp / "generator.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "imgedge.generator.app:create_app_from_env",
               "--host", "127.0.0.1", "--port", str(port), *UVICORN_ARGS, "--no-access-log"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while "Application startup complete" not in log.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        fuzzed = Target(url, _seed(url, done.stdout.split()[0]))
        yield fuzzed
        seconds = round(time.monotonic() - fuzzed.started, 1)
        report(
            "schemathesis", cases=sum(fuzzed.cases.values()), per_operation=dict(fuzzed.cases),
            statuses=dict(sorted(fuzzed.statuses.items())), seconds=seconds,
        )  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")


@pytest.fixture(scope="module")
def generator_schema(target: Target) -> Any:
    return schemathesis.openapi.from_url(f"{target.url}/openapi.json", config=CONFIG)


def _reach_in(case: Case, target: Target) -> dict[str, str]:
    """Every other case: real path parameters and the admin token where the operation asks for one."""
    if next(target.turn) % 2:
        return {}
    for name in case.path_parameters or {}:
        if name == "token":
            case.path_parameters[name] = target.upload_token()
        elif name in target.ids:
            values = target.ids[name]
            case.path_parameters[name] = values[target.cases[case.operation.label] % len(values)]
    if {"bearer": []} in case.operation.definition.raw.get("security", []):
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return {}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_answers_match_openapi(method: str, path: str, generator_schema: Any, target: Target) -> None:
    operation = generator_schema[path][method]
    cases = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

    @given(case=cases)
    @SETTINGS
    def fuzz(case: Case) -> None:
        headers = _reach_in(case, target)
        response = case.call(headers=headers, timeout=60)
        target.cases[case.operation.label] += 1
        target.statuses[f"{case.operation.label} {response.status_code}"] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()
    assert target.cases[operation.label] > 0
