"""Caps by kind of caller: anonymous callers get the IMGEDGE_ANON_* caps, a key its own caps where it has
them, the administrator and other keys the service's maxima."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.keys.records import ApiKey, Caller
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.security.clients import caps_for, check_generation_caps
from imgedge.generator.security.limits import GeneratorLimits

LIMITS = GeneratorLimits.from_config(GeneratorConfig(default_steps=4))
REQUEST = GenerationRequest(prompt="x", width=1024, height=1024, seed=1, steps=4, guidance=1.0)
ANONYMOUS = Caller(None, "198.51.100.1")
KEY = ApiKey("k1", "site", None, None, 0.0)


@pytest.mark.parametrize(
    ("change", "setting"),
    [({"width": 1024, "height": 1032}, "IMGEDGE_ANON_MAX_PIXELS"), ({"steps": 5}, "IMGEDGE_ANON_MAX_STEPS")],
)
def test_anonymous_caps_name_their_setting(change: dict[str, int], setting: str) -> None:
    anonymous = caps_for(ANONYMOUS, LIMITS)
    check_generation_caps(REQUEST, anonymous)  # 1 MP and the default steps: allowed
    with pytest.raises(ApiError) as refused:
        check_generation_caps(replace(REQUEST, **change), anonymous)
    assert refused.value.status == 403 and setting in refused.value.message


def test_the_operators_own_machine_is_anonymous_too() -> None:
    local = Caller(None, "127.0.0.1", local=True)
    assert local.anonymous and local.owner == "anon:127.0.0.1"
    assert caps_for(local, LIMITS) == caps_for(ANONYMOUS, LIMITS)


@pytest.mark.parametrize("caller", [Caller(None, "198.51.100.2", admin=True), Caller(KEY, "198.51.100.2")])
def test_the_administrator_and_a_key_have_the_maxima_only(caller: Caller) -> None:
    caps = caps_for(caller, LIMITS)
    assert not caller.anonymous
    assert (caps.max_pixels, caps.max_steps, caps.max_jobs) == (1536 * 1536, 50, None)
    check_generation_caps(replace(REQUEST, width=1536, height=1536, steps=50), caps)


def test_a_key_with_caps_of_its_own_is_held_to_them() -> None:
    capped = Caller(replace(KEY, max_pixels=512 * 512, max_steps=None), "198.51.100.3")
    caps = caps_for(capped, LIMITS)
    assert (caps.max_pixels, caps.max_steps, caps.max_jobs) == (512 * 512, 50, None)
    check_generation_caps(replace(REQUEST, width=512, height=512, steps=50), caps)
    with pytest.raises(ApiError) as refused:
        check_generation_caps(replace(REQUEST, width=512, height=520), caps)
    assert (
        refused.value.status == 403
        and "API key 'site' may ask for at most 262144 (the key's --max-pixels)" in refused.value.message
    )
    # A key's caps never exceed the service's maxima.
    generous = Caller(replace(KEY, max_pixels=10**9, max_steps=8), "198.51.100.3")
    assert (caps_for(generous, LIMITS).max_pixels, caps_for(generous, LIMITS).max_steps) == (1536 * 1536, 8)
    with pytest.raises(ApiError, match=r"at most 8 steps \(the key's --max-steps\)"):
        check_generation_caps(replace(REQUEST, steps=9), caps_for(generous, LIMITS))


def test_jobs_are_counted_per_caller() -> None:
    assert {ANONYMOUS.owner, Caller(KEY, "198.51.100.1").owner, Caller(None, "x", admin=True).owner} == {
        "anon:198.51.100.1", "key:k1", "admin",
    }  # fmt: skip


def test_anonymous_steps_default_to_the_model_default() -> None:
    assert caps_for(ANONYMOUS, LIMITS).max_steps == 4
    explicit = GeneratorLimits.from_config(GeneratorConfig(default_steps=4, anon_max_steps=8))
    assert caps_for(ANONYMOUS, explicit).max_steps == 8
    assert caps_for(ANONYMOUS, LIMITS).max_jobs == 2
