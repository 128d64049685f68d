"""Caps by kind of client: anonymous clients get the IMGEDGE_ANON_* caps, the administrator the maxima."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.security.clients import Client, caps_for, check_generation_caps
from imgedge.generator.security.limits import GeneratorLimits

LIMITS = GeneratorLimits.from_config(GeneratorConfig(default_steps=4))
REQUEST = GenerationRequest(prompt="x", width=1024, height=1024, seed=1, steps=4, guidance=1.0)


@pytest.mark.parametrize(
    ("change", "setting"),
    [({"width": 1024, "height": 1032}, "IMGEDGE_ANON_MAX_PIXELS"), ({"steps": 5}, "IMGEDGE_ANON_MAX_STEPS")],
)
def test_anonymous_caps_name_their_setting(change: dict[str, int], setting: str) -> None:
    anonymous = caps_for(Client("anon:198.51.100.1", anonymous=True), LIMITS)
    check_generation_caps(REQUEST, anonymous)  # 1 MP and the default steps: allowed
    with pytest.raises(ApiError) as refused:
        check_generation_caps(replace(REQUEST, **change), anonymous)
    assert refused.value.status == 403 and setting in refused.value.message


def test_the_administrator_has_the_maxima_only() -> None:
    caps = caps_for(Client("admin", anonymous=False), LIMITS)
    assert (caps.max_pixels, caps.max_steps, caps.max_jobs) == (1536 * 1536, 50, None)
    check_generation_caps(replace(REQUEST, width=1536, height=1536, steps=50), caps)


def test_anonymous_steps_default_to_the_model_default() -> None:
    assert caps_for(Client("anon:x", True), LIMITS).max_steps == 4
    explicit = GeneratorLimits.from_config(GeneratorConfig(default_steps=4, anon_max_steps=8))
    assert caps_for(Client("anon:x", True), explicit).max_steps == 8
    assert caps_for(Client("anon:x", True), LIMITS).max_jobs == 2
