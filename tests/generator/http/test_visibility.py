"""Pending and rejected assets' metadata: the administrator and the callers that made them see it; anyone
else gets the 404 an unknown id gets, and the list shows approved assets only."""

from __future__ import annotations

from typing import Any

import httpx

from imgedge.generator.config import GeneratorConfig
from tests.conftest import photo
from tests.generator.conftest import Served, database_for, submit

ADMIN = {"Authorization": "Bearer admin-token"}
SOMEONE_ELSE = "anon:198.51.100.7"


def hand_to(config: GeneratorConfig, asset_id: str, creator: str) -> None:
    """As if another caller had made the asset: this test's client is always 127.0.0.1."""
    with database_for(config).transaction() as db:
        db.execute("UPDATE asset_creators SET creator = ? WHERE asset_id = ?", (creator, asset_id))


def creators(config: GeneratorConfig, asset_id: str) -> set[str]:
    with database_for(config).transaction() as db:
        rows = db.execute("SELECT creator FROM asset_creators WHERE asset_id = ?", (asset_id,)).fetchall()
    return {row[0] for row in rows}


def held_asset(served: Served, prompt: str) -> str:
    asset: str = served.wait_job(submit(served, prompt=prompt)["job_id"])["asset_id"]
    return asset


def test_the_creator_and_the_admin_see_a_pending_asset_others_get_404(
    serve: Any, config: GeneratorConfig
) -> None:
    served = serve(config, moderation_review_patterns=("borderline",))
    asset = held_asset(served, "something borderline")
    assert creators(served.config, asset) == {"anon:127.0.0.1"}
    with served.client() as client:
        mine = client.get(f"/v1/images/{asset}")
        assert mine.status_code == 200 and mine.json()["provenance"]["prompt"] == "something borderline"
        hand_to(served.config, asset, SOMEONE_ELSE)
        hidden = client.get(f"/v1/images/{asset}")
        unknown = client.get("/v1/images/" + "0" * 32)
        assert (hidden.status_code, hidden.json()) == (unknown.status_code, unknown.json()) == (
            404, {"error": "asset not found"},
        )  # fmt: skip
        assert "borderline" not in hidden.text
        assert client.get(f"/v1/images/{asset}", headers=ADMIN).json()["moderation"]["state"] == "pending"
        assert asset not in ids(client.get("/v1/images", params={"limit": 100}))

        client.post(f"/v1/admin/assets/{asset}/reject", headers=ADMIN).raise_for_status()
        assert client.get(f"/v1/images/{asset}").status_code == 404
        hand_to(served.config, asset, "anon:127.0.0.1")
        assert client.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "rejected"

        client.post(f"/v1/admin/assets/{asset}/approve", headers=ADMIN).raise_for_status()
        hand_to(served.config, asset, SOMEONE_ELSE)
        assert client.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "approved"
        assert asset in ids(client.get("/v1/images", params={"limit": 100}))


def ids(response: httpx.Response) -> list[str]:
    return [image["asset_id"] for image in response.json()["images"]]


def test_an_upload_is_credited_to_whoever_asked_for_its_url(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, moderation_review_all=True)
    with served.client() as client:
        grant = client.post("/v1/uploads", json={}).json()
        stored = client.put(grant["upload_url"], content=photo("coffee", 64).write_to_buffer(".png"))
        asset = stored.json()["asset_id"]
        assert stored.json()["moderation"] == "pending"
        assert creators(served.config, asset) == {"anon:127.0.0.1"}
        assert client.get(f"/v1/images/{asset}").status_code == 200
        hand_to(served.config, asset, SOMEONE_ELSE)
        assert client.get(f"/v1/images/{asset}").status_code == 404


def test_the_same_pixels_from_two_callers_are_credited_to_both(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, moderation_review_patterns=("borderline",))
    asset = held_asset(served, "twice borderline")
    hand_to(served.config, asset, SOMEONE_ELSE)
    with served.client() as client:  # same prompt and seed: the same picture, handed out again at once
        again = client.post("/v1/images", json={"width": 64, "height": 64, "steps": 2, "seed": 1,
                                                "prompt": "twice borderline"})  # fmt: skip
    assert again.status_code == 200 and again.json()["reused"] is True and again.json()["asset_id"] == asset
    assert creators(served.config, asset) == {SOMEONE_ELSE, "anon:127.0.0.1"}
    with served.client() as client:
        assert client.get(f"/v1/images/{asset}").status_code == 200
