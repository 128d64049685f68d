"""API keys carry their own caps (`imgedge keys create --max-pixels N --max-steps N`): a keyed request over
them is refused with 403 naming the cap, as anonymous requests are over IMGEDGE_ANON_MAX_PIXELS / _STEPS;
a key without caps of its own has the service's maxima. Against a running API with anonymous use allowed."""

from __future__ import annotations

from tests.security.public_api import ANON_MAX_PIXELS, CAPPED_PIXELS, CAPPED_STEPS, MAX_SIDE, PublicApi

SMALL = {"prompt": "a small thing", "width": 64, "height": 64, "steps": 1}
LARGE = {**SMALL, "width": MAX_SIDE, "height": MAX_SIDE}


def test_a_capped_key_is_refused_past_its_caps_naming_them(public_api: PublicApi) -> None:
    with public_api.client("capped") as capped:
        assert capped.post("/v1/images", json=SMALL).status_code == 202
        big = capped.post("/v1/images", json={**SMALL, "width": 72})
        assert big.status_code == 403
        assert big.json()["error"] == (
            f"72x64 is 4608 pixels; API key 'capped' may ask for at most {CAPPED_PIXELS}"
            " (the key's --max-pixels)"
        )
        slow = capped.post("/v1/images", json={**SMALL, "steps": CAPPED_STEPS + 1})
        assert slow.status_code == 403
        assert slow.json()["error"] == (
            f"API key 'capped' may ask for at most {CAPPED_STEPS} steps (the key's --max-steps)"
        )
        assert capped.get("/v1/images").status_code == 200  # refused work does not lock the key out


def test_a_key_without_caps_has_the_maxima_and_anonymous_callers_their_own(public_api: PublicApi) -> None:
    with public_api.client("plain") as plain, public_api.client() as anonymous:
        assert plain.post("/v1/images", json={**LARGE, "steps": 2}).status_code == 202
        refused = anonymous.post("/v1/images", json=LARGE)
        assert (
            refused.status_code == 403
            and f"at most {ANON_MAX_PIXELS} (IMGEDGE_ANON_MAX_PIXELS)" in (refused.json()["error"])
        )
        over_max = plain.post("/v1/images", json={**LARGE, "width": MAX_SIDE + 8})
        assert over_max.status_code == 422  # the service's own maximum, for everyone
