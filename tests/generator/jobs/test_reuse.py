"""Identical requests: reused at once when done, one job while in flight, moderation still applies."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.model_identity import ModelIdentities
from imgedge.generator.jobs.reuse import RequestKeys, canonical_request
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.storage.database import Database
from imgedge.origin_protocol import MODERATION_HEADER
from tests.generator.conftest import database_for, store_for, submit

BODY = {"width": 64, "height": 64, "steps": 2, "seed": 11}


def post(served: Any, **body: Any) -> Any:
    # As the proxy (its origin token): no anonymous caps on steps or jobs in flight.
    with served.client() as client:
        return client.post(
            "/v1/images",
            json={**BODY, **body},
            headers={"Authorization": f"Bearer {served.config.proxy_token}"},
        )


def job_count(config: GeneratorConfig) -> int:
    with database_for(config).transaction() as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def test_a_done_request_is_reused_at_once_with_the_finished_job(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    first = served.wait_job(submit(served, prompt="a quiet harbour", seed=11)["job_id"])
    # NFC and surrounding whitespace do not make a request different: "é" composed and decomposed.
    again = post(served, prompt="  a quiet harbour\n")
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["reused"] is True and body["status"] == "done"
    assert body["id"] == first["id"] and body["asset_id"] == first["asset_id"]
    assert body["image_url"].endswith(first["asset_id"]) and again.headers["cache-control"] == "no-store"
    assert job_count(config) == 1


def test_unicode_forms_of_one_prompt_are_one_request(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    first = served.wait_job(submit(served, prompt="caf\u00e9 at dusk", seed=11)["job_id"])
    again = post(served, prompt="cafe\u0301 at dusk")
    assert again.status_code == 200 and again.json()["asset_id"] == first["asset_id"]


def test_what_changes_the_pixels_makes_a_new_job(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    served.wait_job(submit(served, prompt="lighthouse", seed=11)["job_id"])
    for change in ({"seed": 12}, {"steps": 1}, {"guidance": 3.0}, {"negative_prompt": "fog"}, {"width": 72}):
        response = post(served, prompt="lighthouse", **change)
        assert response.status_code == 202 and response.json()["reused"] is False, change
    # Without a seed the client asks for a new image every time.
    no_seed = {k: v for k, v in BODY.items() if k != "seed"}
    with served.client() as client:
        assert client.post("/v1/images", json={"prompt": "lighthouse", **no_seed}).status_code == 202


def test_identical_requests_in_flight_share_one_job(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    start = threading.Barrier(8)

    def one(_: int) -> Any:
        start.wait()
        return post(served, prompt="eight at once", steps=4)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(8)))
    assert all(r.status_code in (200, 202) for r in responses), [r.text for r in responses]
    ids = {r.json().get("job_id") or r.json().get("id") for r in responses}
    assert len(ids) == 1 and job_count(config) == 1
    assert any(r.status_code == 202 for r in responses)
    assert served.wait_job(ids.pop())["status"] == "done"


def test_a_blocked_prompt_is_refused_before_anything_is_reused(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    served.wait_job(submit(served, prompt="a red kite", seed=11)["job_id"])
    blocked = serve(config, moderation_blocklist=("kite",))  # the same data dir, a stricter policy
    response = post(blocked, prompt="a red kite")
    assert response.status_code == 422 and response.headers[MODERATION_HEADER] == "rejected"


def test_a_rejected_result_is_not_handed_out_again(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    done = served.wait_job(submit(served, prompt="a storm", seed=11)["job_id"])
    store_for(config).set_moderation(done["asset_id"], "rejected", "reviewed")
    response = post(served, prompt="a storm")
    assert response.status_code == 422 and response.headers[MODERATION_HEADER] == "rejected"
    assert job_count(config) == 1  # and nothing was generated


def test_a_failed_or_deleted_result_is_made_again(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    done = served.wait_job(submit(served, prompt="a meadow", seed=11)["job_id"])
    store_for(config).delete(done["asset_id"])
    response = post(served, prompt="a meadow")
    assert response.status_code == 202 and response.json()["job_id"] != done["id"]
    again = served.wait_job(response.json()["job_id"])
    assert again["asset_id"] == done["asset_id"]  # the same pixels, made again
    assert post(served, prompt="a meadow").json()["id"] == again["id"]


def test_one_claim_wins_across_threads(database: Database) -> None:
    # SQLite and PostgreSQL: the primary key is the single-flight, whatever runs the API processes.
    keys = RequestKeys(database)
    start = threading.Barrier(8)

    def claim(n: int) -> bool:
        start.wait()
        return keys.claim("k" * 64, f"job{n}")

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(claim, range(8))) == [False] * 7 + [True]
    job_id, _ = keys.get("k" * 64) or ("", 0.0)
    assert not keys.replace("k" * 64, "someone-else", "mine") and keys.replace("k" * 64, job_id, "mine")


def test_the_canonical_form_names_every_input() -> None:
    request = GenerationRequest("p", 64, 64, 1, 2, 2.0, negative_prompt="n")
    text = canonical_request(request, "model", "hash", "Euler")
    for part in ('"model":"model"', '"model_hash":"hash"', '"scheduler":"Euler"', '"negative_prompt":"n"',
                 '"guidance":"2.0"', '"seed":1', '"steps":2'):  # fmt: skip
        assert part in text


def test_a_reuse_is_a_cheap_request_for_a_keys_quota(serve: Any, config: GeneratorConfig) -> None:
    _, key = ApiKeyRepository(database_for(config)).create("one-a-day", rate_per_minute=None, daily_quota=1)
    served = serve(config)
    headers = {"Authorization": f"Bearer {key}"}
    with served.client() as client:
        first = client.post("/v1/images", json={**BODY, "prompt": "quota"}, headers=headers)
        assert first.status_code == 202
        # Once a key exists every caller needs one, the poll too (reads do not count against the quota).
        while client.get(first.headers["location"], headers=headers).json()["status"] not in (
            "done",
            "failed",
        ):
            time.sleep(0.05)
        for _ in range(3):  # the quota's one generation is spent; the same request is still answered
            again = client.post("/v1/images", json={**BODY, "prompt": "quota"}, headers=headers)
            assert again.status_code == 200 and again.json()["reused"] is True
        other = client.post("/v1/images", json={**BODY, "prompt": "another"}, headers=headers)
        assert other.status_code == 429


def test_an_api_without_the_model_names_it_as_the_loaded_model_does(
    tiny_model: DiffusersDirectoryBackend, config: GeneratorConfig, model_data_dir: Path
) -> None:
    # With `imgedge worker`s the API never loads the model: the key must still be the workers'.
    read = ModelIdentities(ModelSlot(), replace(config, data_dir=model_data_dir)).current()
    loaded = ModelIdentities(ModelSlot(tiny_model)).current()
    assert read is not None and read == loaded
