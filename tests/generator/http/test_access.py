"""API keys over HTTP: who may call, what a key may do, and what is left for anonymous callers."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.owners import JobOwners
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.models.request import GenerationRequest
from tests.generator.conftest import database_for
from tests.generator.http.test_uploads import png_bytes

BODY = {"prompt": "a key test", "width": 64, "height": 64, "steps": 2, "seed": 1}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_key(config: GeneratorConfig, name: str, **limits: Any) -> str:
    limits = {"rate_per_minute": None, "daily_quota": None, **limits}
    _, key = ApiKeyRepository(database_for(config)).create(name, **limits)
    return key


def test_on_a_public_address_every_api_call_needs_a_key(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, host="0.0.0.0")
    with served.client() as client:
        for method, path in (("POST", "/v1/images"), ("GET", "/v1/images"), ("POST", "/v1/uploads"),
                             ("GET", "/v1/jobs/0123"), ("GET", f"/v1/images/{'a' * 32}")):  # fmt: skip
            refused = client.request(method, path, json=BODY if method == "POST" else None)
            assert refused.status_code == 401, (path, refused.text)
            assert refused.headers["www-authenticate"] == 'Bearer realm="imgedge"'
            assert refused.json() == {"error": "an API key is required: send Authorization: Bearer <key>"}
        # What is not the API stays open: health, the playground page, the proxy's originals route.
        assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200
        assert client.get(f"/originals/{'a' * 32}").status_code == 404
        metrics = client.get("/metrics").text
        assert 'imgedge_generator_auth_refused_total{reason="missing"} 5.0' in metrics


def test_keys_missing_wrong_revoked_and_valid(serve: Any, config: GeneratorConfig) -> None:
    key = make_key(config, "site")
    revoked = make_key(config, "old")
    ApiKeyRepository(database_for(config)).revoke("old")
    served = serve(config)  # loopback, but keys exist: they are required
    with served.client() as client:
        missing = client.post("/v1/images", json=BODY)
        assert missing.status_code == 401 and "API key is required" in missing.text
        cases = (
            (bearer(key + "x"), "API key not valid"),
            ({"Authorization": f"Basic {key}"}, "API key not valid"),
            (bearer(revoked), "API key has been revoked"),
        )
        for headers, message in cases:
            refused = client.post("/v1/images", json=BODY, headers=headers)
            assert refused.status_code == 401 and refused.json() == {"error": message}
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        accepted = client.post("/v1/images", json=BODY, headers=bearer(key))
        assert accepted.status_code == 202, accepted.text
        status = client.get(accepted.json()["status_url"], headers=bearer(key))
        assert status.status_code == 200
        metrics = client.get("/metrics").text
    key_id = next(k.id for k in ApiKeyRepository(database_for(config)).all() if k.name == "site")
    assert (
        f'imgedge_generator_api_key_requests_total{{key="{key_id}",kind="generate",name="site"}} 1.0'
        in metrics
    )
    assert (
        f'imgedge_generator_api_key_requests_total{{key="{key_id}",kind="read",name="site"}} 1.0' in metrics
    )
    assert 'imgedge_generator_auth_refused_total{reason="revoked"} 1.0' in metrics


def test_a_key_over_its_rate_or_quota_gets_429_with_retry_after(serve: Any, config: GeneratorConfig) -> None:
    fast = make_key(config, "burst", rate_per_minute=2)
    daily = make_key(config, "daily", rate_per_minute=100, daily_quota=1)
    served = serve(config)
    with served.client() as client:
        codes = [client.post("/v1/uploads", json={}, headers=bearer(fast)).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        limited = client.post("/v1/uploads", json={}, headers=bearer(fast))
        assert limited.json() == {"error": "rate limit of 2 requests per minute exceeded"}
        assert 1 <= int(limited.headers["retry-after"]) <= 120  # a sliding minute: at most 2 min
        assert client.post("/v1/uploads", json={}, headers=bearer(daily)).status_code == 201
        over = client.post("/v1/uploads", json={}, headers=bearer(daily))
        assert over.status_code == 429 and over.json() == {"error": "daily quota of 1 requests used up"}
        assert 1 <= int(over.headers["retry-after"]) <= 86_400
        # Reads are not work: they are never refused for the limits.
        assert client.get("/v1/images", headers=bearer(daily)).status_code == 200
        metrics = client.get("/metrics").text
    assert 'name="burst",reason="rate"} 2.0' in metrics and 'name="daily",reason="quota"} 1.0' in metrics


def test_allowing_anonymous_use_is_announced_and_holds_anonymous_uploads(
    serve: Any, config: GeneratorConfig, caplog: pytest.LogCaptureFixture
) -> None:
    key = make_key(config, "site")
    with caplog.at_level(logging.INFO, logger="imgedge.generator"):
        served = serve(config, host="0.0.0.0", allow_anonymous=True)
    assert any("IMGEDGE_ALLOW_ANONYMOUS=1: anyone who can reach" in r.getMessage() for r in caplog.records)
    with served.client() as client:
        anonymous = client.put(client.post("/v1/uploads", json={}).json()["upload_url"], content=png_bytes())
        assert anonymous.status_code == 201 and anonymous.json()["moderation"] == "pending"
        with_key = client.post("/v1/uploads", json={}, headers=bearer(key)).json()["upload_url"]
        keyed = client.put(with_key, content=png_bytes(41, 31))
        assert keyed.status_code == 201 and keyed.json()["moderation"] == "approved"


def test_anonymous_uploads_on_the_operators_own_machine_are_not_held(
    serve: Any, config: GeneratorConfig
) -> None:
    served = serve(config)  # loopback, no key: `make run`
    with httpx.Client(base_url=served.url) as client:
        url = client.post("/v1/uploads", json={}).json()["upload_url"]
        assert client.put(url, content=png_bytes()).json()["moderation"] == "approved"


def test_the_anonymous_caps_are_for_callers_without_a_key(serve: Any, config: GeneratorConfig) -> None:
    key = make_key(config, "site")
    served = serve(config, host="0.0.0.0", allow_anonymous=True, anon_max_jobs=1)
    # A job of this anonymous client (127.0.0.1) still queued, as another API host would have left it.
    database = database_for(config)
    waiting = JobRepository(database).create(GenerationRequest("w", 64, 64, 1, 2, 1.0))
    JobOwners(database).record(waiting.id, "anon:127.0.0.1")
    slow = {**BODY, "steps": config.default_steps + 1}
    with served.client() as client:
        capped = client.post("/v1/images", json=slow)
        assert capped.status_code == 403 and "IMGEDGE_ANON_MAX_STEPS" in capped.json()["error"]
        busy = client.post("/v1/images", json=BODY)
        assert busy.status_code == 429 and "IMGEDGE_ANON_MAX_JOBS" in busy.json()["error"]
        # A key, or the administrator's token, lifts the anonymous caps; neither needs the other.
        for headers in (bearer(key), bearer(key), bearer(served.config.admin_token)):
            accepted = client.post("/v1/images", json=slow, headers=headers)
            assert accepted.status_code == 202, accepted.text


def test_a_key_with_caps_is_held_to_them(serve: Any, config: GeneratorConfig) -> None:
    thumbs = make_key(config, "thumbs", max_pixels=64 * 64, max_steps=2)
    served = serve(config)
    with served.client() as client:
        accepted = client.post("/v1/images", json=BODY, headers=bearer(thumbs))
        assert accepted.status_code == 202, accepted.text
        for body, cap in (({"width": 64, "height": 72}, "--max-pixels"), ({"steps": 3}, "--max-steps")):
            refused = client.post("/v1/images", json={**BODY, **body}, headers=bearer(thumbs))
            assert refused.status_code == 403
            assert "API key 'thumbs' may ask for at most" in refused.json()["error"]
            assert f"(the key's {cap})" in refused.json()["error"]
        # The administrator is not held to any key's caps.
        admin = bearer(served.config.admin_token)
        assert client.post("/v1/images", json={**BODY, "steps": 3}, headers=admin).status_code == 202
