from __future__ import annotations

import io

import pytest
from ssimulacra2 import compute_ssimulacra2

from imgedge.imaging import autoquality
from imgedge.imaging.encode import EncoderSettings, encode
from tests.conftest import photo


@pytest.fixture(scope="module")
def small() -> object:
    return photo("chelsea").thumbnail_image(160).copy_memory()


def test_score_is_the_packages_metric_on_the_same_pixels(small: object) -> None:
    encoded = encode(small, "webp", quality=40, strip=True, settings=EncoderSettings())
    decoded_png = autoquality.pyvips.Image.new_from_buffer(encoded, "").write_to_buffer(".png")
    expected = compute_ssimulacra2(io.BytesIO(small.write_to_buffer(".png")), io.BytesIO(decoded_png))  # type: ignore[attr-defined]
    # float32 against the package's float64 (tests/imaging/test_ssimulacra2.py)
    assert autoquality.score(small, encoded) == pytest.approx(expected, abs=0.01)  # type: ignore[arg-type]
    assert autoquality.score(small, small.write_to_buffer(".png")) == pytest.approx(100)  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_search_finds_the_lowest_quality_that_meets_the_target(small: object, fmt: str) -> None:
    settings = EncoderSettings()
    learned = autoquality.search(small, fmt, 70, settings)  # type: ignore[arg-type]
    assert learned.score >= 70 and learned.encodes <= 8
    below = encode(small, fmt, quality=learned.quality - 1, strip=True, settings=settings, auto=True)  # type: ignore[arg-type]
    assert autoquality.score(small, below) < 70  # type: ignore[arg-type]


def test_estimates_rise_with_the_target_and_classes_with_size() -> None:
    assert (
        autoquality.estimate("webp", 50) < autoquality.estimate("webp", 70) < autoquality.estimate("webp", 80)
    )
    assert autoquality.estimate("avif", 99) <= 100 and autoquality.estimate("jpeg", 10) >= 10
    assert [autoquality.size_class(w, 10) for w in (100, 300, 600, 1500, 5000)] == ["xs", "s", "m", "l", "xl"]
