from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
import pyvips
from ssimulacra2 import compute_ssimulacra2

from imgedge.imaging import ssimulacra2 as metric
from imgedge.imaging.autoquality import linear_planes
from tests.conftest import photo


def _encoded(image: pyvips.Image, quality: int) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(image.webpsave_buffer(Q=quality), "")


@pytest.mark.parametrize(
    ("name", "width", "height", "quality"),
    [
        ("astronaut", 401, 401, 60),
        ("coffee", 333, 222, 30),
        ("chelsea", 257, 171, 85),
        ("hubble_deep_field", 400, 349, 60),
        # Fewer than six scales: the weights are taken in the reference's order, not by scale.
        ("chelsea", 45, 33, 50),
        ("coffee", 16, 9, 40),
    ],
)
def test_agrees_with_the_package_on_odd_and_even_sizes(
    name: str, width: int, height: int, quality: int
) -> None:
    """float32 planes against the package's float64: within a hundredth of a point at these sizes."""
    image = photo(name).thumbnail_image(width, height=height, size="force").copy_memory()
    distorted = _encoded(image, quality)
    png = (io.BytesIO(image.write_to_buffer(".png")), io.BytesIO(distorted.write_to_buffer(".png")))
    expected = compute_ssimulacra2(*png)
    score = metric.ssimulacra2(linear_planes(image), linear_planes(distorted))
    assert score == pytest.approx(expected, abs=0.01)


def test_one_reference_scores_many_encodings_as_single_comparisons_do() -> None:
    image = photo("chelsea", 200).copy_memory()
    reference = metric.Reference(linear_planes(image))
    scores = []
    for quality in (20, 50, 90):
        distorted = linear_planes(_encoded(image, quality))
        scores.append(reference.score(distorted))
        assert scores[-1] == metric.ssimulacra2(linear_planes(image), distorted)
    assert scores == sorted(scores) and scores[-1] < 100
    assert reference.score(linear_planes(image)) == pytest.approx(100)


def test_refuses_images_of_another_shape() -> None:
    reference = metric.Reference(linear_planes(photo("chelsea", 64)))
    with pytest.raises(ValueError, match="shapes differ"):
        reference.score(np.zeros((32, 64, 3), dtype=np.float32))


def test_tiny_images_are_identical_or_not() -> None:
    tiny = linear_planes(photo("chelsea", 6))
    assert metric.ssimulacra2(tiny, tiny) == 100.0
    assert metric.ssimulacra2(tiny, 1.0 - tiny) == 0.0


def test_a_search_holds_xyb_planes_and_compares_in_strips() -> None:
    """A q:auto search runs beside the workers' caches: what it holds is no cache budget's (the soak)."""
    image = photo("astronaut").copy_memory()  # 512²: four strips of 128 rows
    plane = image.width * image.height * 4  # one float32 plane
    distorted = linear_planes(_encoded(image, 50))
    tracemalloc.start()
    try:
        reference = metric.Reference(linear_planes(image))
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        reference.score(distorted)
        peak = tracemalloc.get_traced_memory()[1] - held
    finally:
        tracemalloc.stop()
    # Three XYB planes per scale, each scale a quarter of the one before (12 planes before: means and
    # variances too); a comparison's peak was 11 planes of whole-plane temporaries.
    assert held <= 4.05 * plane
    assert peak < 4 * plane
