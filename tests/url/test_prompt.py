"""The prompt URL grammar: one spelling per generation, signed over the canonical options and generation."""

from __future__ import annotations

import pytest

from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects.prompt import parse_prompt_path
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources.base import GENERATION
from imgedge.url.errors import UrlError
from imgedge.url.prompt import (
    Generation,
    build_prompt_path,
    canonical_prompt,
    parse_generation,
    size_for_aspect,
)
from imgedge.url.signing import verify_message

KEY = b"prompt-key"


def test_prompts_have_one_spelling() -> None:
    assert canonical_prompt("\t cafe\u0301  \n") == "caf\u00e9"
    assert canonical_prompt("\u3000wide space\u3000") == "\u3000wide space\u3000"  # only ASCII whitespace
    with pytest.raises(UrlError):
        Generation(" padded", 1, 64, 64)


def test_segments_round_trip_and_other_spellings_are_refused() -> None:
    generation = Generation.of("a red fox \U0001f98a", 7, 672, 378)
    segment = generation.segment()
    assert segment.startswith("672x378-7-") and parse_generation(segment) == generation
    width_height, seed, prompt = segment.split("-", 2)
    for bad in (
        segment + "=", f"0{segment}", f"{width_height}-07-{prompt}", f"{width_height}-{seed}-{prompt}A",
        f"100x64-{seed}-{prompt}", f"{width_height}-4294967296-{prompt}", f"{width_height}-{seed}-",
        f"{width_height}-{seed}-ICBh",  # "  a": not trimmed
    ):  # fmt: skip
        with pytest.raises(UrlError):
            parse_generation(bad)


def test_aspect_sizes_are_the_generators() -> None:
    assert [size_for_aspect(a) for a in ("1:1", "16:9", "9:16", "4:3", "3:4")] == [
        (512, 512), (672, 378), (378, 672), (576, 432), (432, 576),
    ]  # fmt: skip
    assert Generation.of("x", 1, 672, 378).request_body() == {"prompt": "x", "seed": 1, "aspect": "16:9"}
    assert Generation.of("x", 1, 64, 128).request_body() == {
        "prompt": "x",
        "seed": 1,
        "width": 64,
        "height": 128,
    }


def test_the_proxy_dialect_verifies_what_the_builder_signs() -> None:
    path = build_prompt_path(Generation.of("dunes", 3, 512, 512), key=KEY, options=["h:300", "w:400"])
    assert path.startswith("/gen/") and "/w:400/h:300/" in path
    parsed = parse_prompt_path(path.removeprefix("/gen"), ProxyConfig().parse_settings)
    assert parsed.source.kind == GENERATION and parsed.source.location == path.rsplit("/", 1)[1]
    assert verify_message([KEY], parsed.credential.message, parsed.credential.signature)
    assert not verify_message([b"other"], parsed.credential.message, parsed.credential.signature)
    # The signature covers the generation: another seed under the same signature does not verify.
    other = parse_prompt_path(path.removeprefix("/gen").replace("-3-", "-4-"), ProxyConfig().parse_settings)
    assert not verify_message([KEY], other.credential.message, other.credential.signature)
    with pytest.raises(Forbidden):
        parse_prompt_path("/_/w:10/512x512-3-ZHVuZXM", ProxyConfig().parse_settings)
