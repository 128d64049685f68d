from __future__ import annotations

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.models.request import model_size, parse_generation_request, size_for_aspect
from imgedge.url.prompt import ASPECTS

CONFIG = GeneratorConfig()


@pytest.mark.parametrize("aspect", list(ASPECTS))
def test_aspects_give_the_exact_ratio_near_512_squared(aspect: str) -> None:
    width, height = size_for_aspect(aspect)
    w, h = ASPECTS[aspect]
    assert width * h == height * w  # exact: a 320 px wide 16:9 variant is 320x180
    assert 0.8 < width * height / 512**2 < 1.2
    model_w, model_h = model_size(width, height)
    assert model_w % 8 == 0 and model_h % 8 == 0
    assert 0 <= model_w - width < 8 and 0 <= model_h - height < 8


def test_sixteen_by_nine_and_its_variants() -> None:
    assert size_for_aspect("16:9") == (672, 378)
    assert size_for_aspect("4:3") == (576, 432)
    assert model_size(672, 378) == (672, 384)
    assert model_size(1024, 576) == (1024, 576)  # width/height requests are multiples of 8 already


def test_defaults_and_explicit_values() -> None:
    request = parse_generation_request({"prompt": "p", "width": 1024, "height": 576, "seed": 5}, CONFIG)
    assert (request.width, request.height, request.seed, request.steps) == (
        1024,
        576,
        5,
        CONFIG.default_steps,
    )
    assert parse_generation_request({"prompt": "p"}, CONFIG).width == 512
    assert 0 <= parse_generation_request({"prompt": "p"}, CONFIG).seed < 2**32


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"prompt": 3},
        {"prompt": "p", "width": 64},
        {"prompt": "p", "width": 60, "height": 64},
        {"prompt": "p", "width": 4096, "height": 64},
        {"prompt": "p", "aspect": "1:1", "width": 64, "height": 64},
        {"prompt": "p", "seed": -1},
        {"prompt": "p", "seed": True},
        {"prompt": "p", "steps": 2.5},
        {"prompt": "p", "seed": float("inf")},
        {"prompt": "p", "guidance": "high"},
        {"prompt": "p", "temporary": "yes"},
        {"prompt": "x" * 5000},
    ],
)
def test_invalid_requests_are_422(body: object) -> None:
    with pytest.raises(ApiError) as error:
        parse_generation_request(body, CONFIG)
    assert error.value.status == 422


@pytest.mark.parametrize("body", [{"prompt": "p"}, {"prompt": "p", "aspect": "16:9"}])
def test_a_default_size_over_the_longest_side_is_refused_not_generated(body: dict[str, str]) -> None:
    small = GeneratorConfig(max_side=256)
    with pytest.raises(ApiError) as refused:
        parse_generation_request(body, small)
    assert refused.value.status == 422 and "256" in refused.value.message
    assert parse_generation_request({"prompt": "p", "width": 256, "height": 128}, small).width == 256


def test_integral_numbers_are_integers_as_in_json_schema() -> None:
    request = parse_generation_request({"prompt": "p", "width": 64.0, "height": 128.0, "steps": 2.0}, CONFIG)
    assert (request.width, request.height, request.steps) == (64, 128, 2)
    assert isinstance(request.width, int) and isinstance(request.steps, int)
