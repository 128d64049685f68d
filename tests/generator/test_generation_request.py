from __future__ import annotations

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.generation_request import ASPECTS, parse_generation_request, size_for_aspect
from imgedge.generator.rate_limit import TokenBuckets

CONFIG = GeneratorConfig()


@pytest.mark.parametrize("aspect", list(ASPECTS))
def test_aspects_give_multiples_of_64_near_512_squared(aspect: str) -> None:
    width, height = size_for_aspect(aspect)
    assert width % 64 == 0 and height % 64 == 0
    w, h = ASPECTS[aspect]
    assert abs(width / height - w / h) < 0.1
    assert 0.8 < width * height / 512**2 < 1.2


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
        {"prompt": "p", "guidance": "high"},
        {"prompt": "p", "temporary": "yes"},
        {"prompt": "x" * 5000},
    ],
)
def test_invalid_requests_are_422(body: object) -> None:
    with pytest.raises(ApiError) as error:
        parse_generation_request(body, CONFIG)
    assert error.value.status == 422


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    wait = buckets.take("a")
    assert wait == pytest.approx(1.0)
    assert buckets.take("b") == 0  # buckets are per client
    now[0] = 1.0
    assert buckets.take("a") == 0
