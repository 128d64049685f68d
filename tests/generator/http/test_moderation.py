from __future__ import annotations

from typing import Any

import pytest

from imgedge.env import ConfigError
from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.config import GeneratorConfig
from tests.generator.conftest import Receiver, submit

ADMIN = {"Authorization": "Bearer admin-token"}
PROXY = {"Authorization": "Bearer origin-token"}


def test_policy_rules() -> None:
    policy = ModerationPolicy(("forbidden",), (r"\bborder\w*",), review_all=False)
    assert policy.check_prompt("a FORBIDDEN thing").state == "rejected"
    assert policy.check_prompt("borderline art").state == "pending"
    assert policy.check_prompt("a cat").state == "approved"
    assert policy.check_generated("a cat", flagged=True).state == "rejected"
    assert ModerationPolicy((), (), review_all=True).check_generated("a cat", None).state == "pending"
    assert ModerationPolicy((), (), review_all=True).check_upload().state == "pending"
    with pytest.raises(ConfigError):
        ModerationPolicy(("(",), (), review_all=False)


def test_pending_asset_is_gated_until_an_admin_approves(
    serve: Any, config: GeneratorConfig, receiver: tuple[Receiver, str]
) -> None:
    recv, proxy_url = receiver
    served = serve(
        config, moderation_review_patterns=("borderline",), proxy_url=proxy_url, eager_variants=True
    )
    job = served.wait_job(submit(served, prompt="something borderline")["job_id"])
    asset = job["asset_id"]
    with served.client() as client:
        assert client.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "pending"
        public = client.get(f"/originals/{asset}")
        assert public.status_code == 403
        assert public.headers["x-imgedge-moderation"] == "pending"
        assert public.headers["cache-control"] == "no-store"
        # The proxy, with its credential, may fetch it (admin preview) but must not cache it as immutable.
        proxied = client.get(f"/originals/{asset}", headers=PROXY)
        assert proxied.status_code == 200
        assert proxied.headers["x-imgedge-moderation"] == "pending"
        assert "immutable" not in proxied.headers["cache-control"]
        assert client.get(f"/originals/{asset}", headers={"Authorization": "Bearer wrong"}).status_code == 403

        assert client.get("/v1/admin/pending").status_code == 401
        assert [a["asset_id"] for a in client.get("/v1/admin/pending", headers=ADMIN).json()["assets"]] == [
            asset
        ]
        assert client.post(f"/v1/admin/assets/{asset}/approve", headers=PROXY).status_code == 401
        approved = client.post(f"/v1/admin/assets/{asset}/approve", headers=ADMIN)
        assert approved.json()["moderation"]["state"] == "approved"
        purge = recv.wait_for(1, "/admin/purge/")[0]
        assert purge.path == f"/admin/purge/{asset}" and purge.method == "POST"
        assert purge.headers["authorization"] == "Bearer admin-token"
        # Approval renders the critical variants ahead of the first visitor. The stand-in proxy has learned
        # nothing (its /admin/popular is not JSON), so the srcset widths are warmed: a 64 px image has one
        # (nothing is upscaled), fetched once per negotiated format, as a prefetch.
        recv.wait_for(4, "/")
        warm_gets = [r for r in recv.requests if r.method == "GET" and r.path.endswith("/" + asset)]
        assert len({r.path for r in warm_gets}) == 1 and len(warm_gets) == 2
        assert {r.headers.get("sec-purpose") for r in warm_gets} == {"prefetch"}
        assert any("avif" in r.headers.get("accept", "") for r in warm_gets)
        asked = [r for r in recv.requests if r.path == "/admin/popular"]
        assert len(asked) == 1 and asked[0].headers["authorization"] == "Bearer admin-token"

        public = client.get(f"/originals/{asset}")
        assert public.status_code == 200
        assert public.headers["cache-control"] == "public, max-age=31536000, immutable"

        rejected = client.post(f"/v1/admin/assets/{asset}/reject", headers=ADMIN, json={"reason": "spam"})
        assert rejected.json()["moderation"] == {"state": "rejected", "reason": "spam"}
        assert recv.wait_for(2, "/admin/purge/")[1].path == f"/admin/purge/{asset}"
        assert client.get(f"/originals/{asset}").status_code == 451
        assert client.get(f"/originals/{asset}", headers=PROXY).headers["x-imgedge-moderation"] == "rejected"
        assert client.post("/v1/admin/assets/" + "0" * 32 + "/approve", headers=ADMIN).status_code == 404
        assert "imgedge_generator_moderation_rejections_total 1" in client.get("/metrics").text


def test_blocked_prompt_is_refused_before_generation(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, moderation_blocklist=("forbidden",))
    with served.client() as client:
        response = client.post(
            "/v1/images", json={"prompt": "something Forbidden", "width": 64, "height": 64}
        )
        assert response.status_code == 422
        assert "moderation" in response.json()["error"]
        assert "imgedge_generator_model_invocations_total 0" in client.get("/metrics").text


def test_review_all_holds_every_generated_asset(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, moderation_review_all=True)
    job = served.wait_job(submit(served, prompt="harmless")["job_id"])
    with served.client() as client:
        assert client.get(f"/originals/{job['asset_id']}").status_code == 403
