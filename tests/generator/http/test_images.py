from __future__ import annotations

import base64
import json
from typing import Any

import blurhash
import pytest
import pyvips
import thash
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from imgedge.generator.config import GeneratorConfig
from imgedge.origin_protocol import label_from_headers
from imgedge.provenance import TRAINED_ALGORITHMIC_MEDIA, ProvenanceLabel
from tests.generator.conftest import WEBHOOK_SECRET, Receiver, submit


def test_job_lifecycle_to_a_served_original(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    created = submit(served, prompt="red dunes")
    assert created["status"] == "queued"
    # Root-relative: no IMGEDGE_PUBLIC_URL here, and the request's Host is never used.
    assert created["status_url"] == "/v1/jobs/" + created["job_id"]
    job = served.wait_job(created["job_id"])
    assert job["status"] == "done", job
    asset_id = job["asset_id"]
    with served.client() as client:
        meta = client.get(job["image_url"]).json()
        assert meta["width"] == 64 and meta["height"] == 64
        assert meta["content_type"] == "image/png"
        assert meta["moderation"]["state"] == "approved"
        assert meta["provenance"]["prompt"] == "red dunes"
        assert meta["provenance"]["seed"] == 1
        assert meta["provenance"]["digital_source_type"] == "trainedAlgorithmicMedia"
        # 128 would come back 64 px wide (nothing is upscaled), so the srcset stops at the source width.
        assert set(meta["transforms"]["widths"]) == {"64"}
        assert meta["transforms"]["widths"]["64"].endswith("/" + asset_id)
        assert "128w" not in meta["transforms"]["srcset"]
        placeholders = meta["placeholders"]
        assert set(placeholders) == {"thumbhash", "blurhash", "dominant_color", "average_color", "lqip"}
        lqip = pyvips.Image.new_from_buffer(base64.b64decode(placeholders["lqip"].split(",", 1)[1]), "")
        assert max(lqip.width, lqip.height) <= 16
        assert thash.thumb_hash_to_approximate_aspect_ratio(
            list(base64.b64decode(placeholders["thumbhash"]))
        ) == pytest.approx(1.0, abs=0.1)
        assert len(blurhash.decode(placeholders["blurhash"], 4, 4)) == 4

        original = client.get(f"/originals/{asset_id}")
        assert original.status_code == 200
        assert original.headers["content-type"] == "image/png"
        assert original.headers["etag"] == f'"{asset_id}"'
        assert original.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert original.headers["x-imgedge-moderation"] == "approved"
        assert int(original.headers["content-length"]) == meta["bytes"] == len(original.content)
        assert pyvips.Image.new_from_buffer(original.content, "").width == 64

        head = client.head(f"/originals/{asset_id}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == original.headers["etag"]
        assert (
            client.get(f"/originals/{asset_id}", headers={"If-None-Match": f'"{asset_id}"'}).status_code
            == 304
        )


def test_same_request_twice_gives_the_same_asset(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    first = served.wait_job(submit(served, prompt="same")["job_id"])
    with served.client() as client:
        again = client.post(
            "/v1/images", json={"prompt": "same", "width": 64, "height": 64, "steps": 2, "seed": 1}
        )
    assert again.status_code == 200 and again.json()["reused"] is True
    assert again.json()["asset_id"] == first["asset_id"] and again.json()["id"] == first["id"]


def test_unknown_ids_are_404(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        assert client.get("/v1/jobs/nope").status_code == 404
        assert client.get("/v1/images/" + "0" * 32).status_code == 404
        assert client.get("/originals/" + "0" * 32).status_code == 404
        assert client.get("/originals/../../etc/passwd").status_code == 404


def test_bad_requests_are_4xx_with_a_reason(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        for body, status in [
            (b"not json", 400),
            (json.dumps({"prompt": ""}).encode(), 422),
            (json.dumps({"prompt": "x", "width": 100, "height": 64}).encode(), 422),
            (json.dumps({"prompt": "x", "aspect": "2:1"}).encode(), 422),
            (json.dumps({"prompt": "x", "steps": 0}).encode(), 422),
            (json.dumps({"prompt": "x", "webhook_url": "file:///etc/passwd"}).encode(), 422),
        ]:
            response = client.post("/v1/images", content=body, headers={"content-type": "application/json"})
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"]


def test_rate_limit_answers_429_with_retry_after(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, rate_burst=1, rate_per_minute=1)
    submit(served, prompt="first")
    with served.client() as client:
        response = client.post("/v1/images", json={"prompt": "second", "width": 64, "height": 64})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


def test_webhook_is_signed_and_carries_the_result(
    serve: Any, config: GeneratorConfig, receiver: tuple[Receiver, str]
) -> None:
    recv, url = receiver
    served = serve(config)
    created = submit(served, prompt="hooked", webhook_url=f"{url}/hook")
    delivered = recv.wait_for(1, "/hook")[0]
    payload = Webhook(WEBHOOK_SECRET).verify(delivered.body, delivered.headers)
    assert payload == json.loads(delivered.body)
    assert payload["type"] == "job.done" and payload["timestamp"].endswith("Z")
    assert payload["data"]["job"]["id"] == created["job_id"]
    assert payload["data"]["image"]["asset_id"] == payload["data"]["job"]["asset_id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==").verify(delivered.body, delivered.headers)


def test_metrics_count_jobs_and_invocations(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    served.wait_job(submit(served, prompt="counted")["job_id"])
    with served.client() as client:
        text = client.get("/metrics").text
        health = client.get("/healthz").json()
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "problems": []}
    assert "imgedge_generator_model_invocations_total 1" in text
    assert "imgedge_generator_jobs_done_total 1" in text
    assert "imgedge_generator_generation_seconds_count 1" in text
    assert health["status"] == "ok" and health["model"]


def test_originals_of_generated_images_announce_their_provenance(serve: Any, config: GeneratorConfig) -> None:
    quiet = serve(config, public_generator_url="https://gen.example.com/")
    asset_id = quiet.wait_job(submit(quiet, prompt="café at night")["job_id"])["asset_id"]
    with quiet.client() as client:
        headers = client.get(f"/originals/{asset_id}").headers
    label = label_from_headers(headers)
    assert label == ProvenanceLabel(
        TRAINED_ALGORITHMIC_MEDIA, f"https://gen.example.com/v1/images/{asset_id}"
    )

    opted_in = serve(config, provenance_prompt=True)
    with opted_in.client() as client:
        label = label_from_headers(client.get(f"/originals/{asset_id}").headers)
    assert label is not None and label.prompt == "café at night"
