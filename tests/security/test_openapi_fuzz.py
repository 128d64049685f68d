"""schemathesis against the generator's own /openapi.json: every operation it describes, fuzzed over real
sockets against a running public generation API (tests/security/public_api.py: uvicorn with imgedge's
protocol, the tiny model, anonymous use beside API keys), each answer checked for a server error and against
the description (status code, content type, response schema).

One case in four reaches past the front door: a path parameter becomes a real job, asset or fresh upload
token, and the operation gets the credential it asks for (the admin token, an API key), so the 200s and 201s
are checked as well as the 4xx; one in four shows a key that is not valid. Example counts are bounded so the
module stays quick; it reports how many cases ran and for how long.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
from tests.security.conftest import report
from tests.security.public_api import HELD_WORD, PublicApi, wait_job

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Moderation decisions last: they change what the real assets answer to everyone else.
OPERATIONS = sorted(
    ((method, path) for path, item in PATHS.items() for method in item), key=lambda op: "/admin/" in op[1]
)
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}}, "warnings": False}
)


@dataclass
class Target:
    api: PublicApi
    ids: dict[str, list[str]]  # path parameter -> real values (jobs, assets of each moderation state)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    turn: Iterator[int] = field(default_factory=itertools.count)

    def upload_token(self) -> str:
        with self.api.client() as client:
            url: str = client.post("/v1/uploads", json={}).raise_for_status().json()["upload_url"]
        return url.rsplit("/", 1)[1]


def _seed(api: PublicApi) -> dict[str, list[str]]:
    """A done job and assets in every moderation state: approved, pending, rejected."""
    with api.client() as client:
        held = [{"prompt": f"a {word}", "width": 64, "height": 64} for word in (HELD_WORD, f"{HELD_WORD} 2")]
        jobs = [client.post("/v1/images", json=body).json()["job_id"] for body in held]
        pending, rejected = (wait_job(client, job)["asset_id"] for job in jobs)
        client.post(f"/v1/admin/assets/{rejected}/reject", headers=api.admin()).raise_for_status()
    assets = [api.ingested, pending, rejected]
    return {"asset_id": assets, "job_id": jobs, "path": ["playground.js", "playground.css"]}


@pytest.fixture(scope="module")
def target(public_api: PublicApi) -> Iterator[Target]:
    fuzzed = Target(public_api, _seed(public_api))
    yield fuzzed
    seconds = round(time.monotonic() - fuzzed.started, 1)
    report(
        "schemathesis", cases=sum(fuzzed.cases.values()), per_operation=dict(fuzzed.cases),
        statuses=dict(sorted(fuzzed.statuses.items())), seconds=seconds,
    )  # fmt: skip


@pytest.fixture(scope="module")
def generator_schema(target: Target) -> Any:
    return schemathesis.openapi.from_url(f"{target.api.url}/openapi.json", config=CONFIG)


def _reach_in(case: Case, target: Target) -> dict[str, str]:
    """One case in four gets real path parameters and the credentials the operation asks for (the admin
    token, or an API key); one in four a key that is not valid; the rest go as generated, anonymously."""
    turn = next(target.turn) % 4
    security = case.operation.definition.raw.get("security", [])
    if turn == 1 and {"apiKey": []} in security:
        return {"Authorization": "Bearer ie_not-a-key"}
    if turn != 0:
        return {}
    for name in case.path_parameters or {}:
        if name == "token":
            case.path_parameters[name] = target.upload_token()
        elif name in target.ids:
            values = target.ids[name]
            case.path_parameters[name] = values[target.cases[case.operation.label] % len(values)]
    if {"bearer": []} in security:
        return target.api.admin()
    if {"apiKey": []} in security:
        return {"Authorization": f"Bearer {target.api.keys['plain']}"}
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
