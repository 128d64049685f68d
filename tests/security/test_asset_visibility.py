"""Pending and rejected assets' metadata (the prompt, the seed, the moderation reason) is for the
administrator and the caller that made them: another client asking by id gets the same 404 an unknown id
gets, never a 403 that would confirm the asset exists, and the list shows it to nobody until it is approved.
Anonymous clients are told apart by their address, through the trusted proxy; with API keys, the creator is
the key."""

from __future__ import annotations

import httpx

from tests.conftest import photo
from tests.security.conftest import REVIEW_WORD, Edge
from tests.security.public_api import HELD_WORD as REVIEW_WORD_API
from tests.security.public_api import PublicApi, wait_job

CREATOR, STRANGER = "198.51.100.21", "198.51.100.22"
SECRET_PROMPT = f"a {REVIEW_WORD} secret plan"


def listed(client: httpx.Client) -> list[str]:
    return [image["asset_id"] for image in client.get("/v1/images?limit=100").json()["images"]]


def test_a_pending_asset_is_shown_to_its_creator_and_the_admin_only(edge: Edge) -> None:
    admin = {"Authorization": f"Bearer {edge.admin_token}"}
    with edge.client(behind=CREATOR) as creator, edge.client(behind=STRANGER) as stranger:
        body = {"prompt": SECRET_PROMPT, "width": 64, "height": 64, "steps": 1, "seed": 7}
        asset = wait_job(creator, creator.post("/v1/images", json=body).json()["job_id"])["asset_id"]
        own = creator.get(f"/v1/images/{asset}")
        assert own.status_code == 200 and own.json()["provenance"]["prompt"] == SECRET_PROMPT
        assert own.json()["moderation"]["state"] == "pending"

        unknown = stranger.get("/v1/images/" + "f" * 32)
        with edge.client() as direct:  # another address, and a client not behind the proxy
            for who in (stranger, direct):
                hidden = who.get(f"/v1/images/{asset}")
                assert (hidden.status_code, hidden.json()) == (404, unknown.json())
                assert REVIEW_WORD not in hidden.text and asset not in listed(who)
        assert asset not in listed(creator)
        as_admin = stranger.get(f"/v1/images/{asset}", headers=admin)
        assert as_admin.json()["provenance"]["prompt"] == SECRET_PROMPT

        stranger.post(f"/v1/admin/assets/{asset}/reject", headers=admin).raise_for_status()
        assert stranger.get(f"/v1/images/{asset}").status_code == 404
        assert creator.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "rejected"

        stranger.post(f"/v1/admin/assets/{asset}/approve", headers=admin).raise_for_status()
        assert stranger.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "approved"
        assert asset in listed(stranger)
    assert edge.answers()


def test_a_pending_upload_is_shown_to_whoever_asked_for_its_url(edge: Edge) -> None:
    """The URL may be handed on; the asset is credited to the client that was given it."""
    admin = {"Authorization": f"Bearer {edge.admin_token}"}
    with edge.client(behind=CREATOR) as creator, edge.client(behind=STRANGER) as stranger:
        grant = creator.post("/v1/uploads", json={}).json()
        picture = photo("chelsea", 80).write_to_buffer(".png")
        stored = stranger.put(grant["upload_url"], content=picture).json()
        asset = stored["asset_id"]
        stranger.post(f"/v1/admin/assets/{asset}/reject", headers=admin).raise_for_status()
        assert creator.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "rejected"
        assert stranger.get(f"/v1/images/{asset}").status_code == 404


def test_with_keys_the_creator_is_the_key_not_the_address(public_api: PublicApi) -> None:
    """All three clients share 127.0.0.1: only the key that made the asset sees it while it is held."""
    body = {"prompt": f"keyed {REVIEW_WORD_API}", "width": 64, "height": 64, "steps": 1}
    with (
        public_api.client("plain") as maker,
        public_api.client("capped") as other,
        public_api.client() as anon,
    ):
        asset = wait_job(maker, maker.post("/v1/images", json=body).json()["job_id"])["asset_id"]
        assert maker.get(f"/v1/images/{asset}").json()["moderation"]["state"] == "pending"
        assert other.get(f"/v1/images/{asset}").status_code == 404
        assert anon.get(f"/v1/images/{asset}").status_code == 404
        assert anon.get(f"/v1/images/{asset}", headers=public_api.admin()).status_code == 200
