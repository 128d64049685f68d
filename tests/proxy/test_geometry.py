from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imgedge.proxy.pipeline.geometry import Box, offset, plan
from imgedge.url import TransformSpec

sizes = st.integers(1, 5000)


@given(sizes, sizes, sizes, sizes, st.booleans())
def test_cover_is_exact_when_enlarging_or_shrinking(sw: int, sh: int, w: int, h: int, enlarge: bool) -> None:
    p = plan(sw, sh, TransformSpec(width=w, height=h, fit="cover", enlarge=enlarge))
    final = p.crop or p.scaled
    if enlarge or (w <= sw and h <= sh):
        assert (final.width, final.height) == (w, h)
    else:
        assert final.width <= w and final.height <= h
    assert p.scaled.width >= final.width and p.scaled.height >= final.height


@given(sizes, sizes, sizes, sizes, st.booleans())
def test_inside_fits_the_box_and_keeps_aspect(sw: int, sh: int, w: int, h: int, enlarge: bool) -> None:
    p = plan(sw, sh, TransformSpec(width=w, height=h, enlarge=enlarge))
    assert p.crop is None and p.pad is None
    assert (p.scaled.width <= max(w, 1) and p.scaled.height <= max(h, 1)) or (
        not enlarge and p.scaled == Box(sw, sh)
    )
    assert p.scaled.width == w or p.scaled.height == h or (not enlarge and (sw < w or sh < h))
    if not enlarge:
        assert p.scaled.width <= sw and p.scaled.height <= sh


@given(sizes, sizes, sizes, sizes)
def test_pad_and_force_give_the_exact_box(sw: int, sh: int, w: int, h: int) -> None:
    padded = plan(sw, sh, TransformSpec(width=w, height=h, fit="pad"))
    assert (padded.pad or padded.scaled) == Box(w, h)
    assert plan(sw, sh, TransformSpec(width=w, height=h, fit="force")).scaled == Box(w, h)


@given(sizes, sizes, st.integers(1, 30), st.integers(1, 30))
def test_aspect_only_crops_the_source(sw: int, sh: int, a: int, b: int) -> None:
    p = plan(sw, sh, TransformSpec(aspect=(a, b)))
    assert p.scaled == Box(sw, sh)
    crop = p.crop
    assert crop is not None and crop.width <= sw and crop.height <= sh
    assert abs(crop.width * b - crop.height * a) <= max(a, b)


def test_width_only_lands_exactly() -> None:
    assert plan(1024, 768, TransformSpec(width=400)).scaled == Box(400, 300)
    assert plan(1024, 768, TransformSpec(height=300)).scaled == Box(400, 300)
    assert plan(300, 200, TransformSpec(width=400)).scaled == Box(300, 200)
    assert plan(300, 200, TransformSpec(width=600, enlarge=True)).scaled == Box(600, 400)


@given(
    sizes,
    sizes,
    sizes,
    sizes,
    st.sampled_from(["ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe"]),
)
def test_offsets_stay_inside(ow: int, oh: int, iw: int, ih: int, gravity: str) -> None:
    iw, ih = min(iw, ow), min(ih, oh)
    x, y = offset(Box(ow, oh), Box(iw, ih), gravity, None)
    assert 0 <= x <= ow - iw and 0 <= y <= oh - ih


def test_compass_and_focal_offsets() -> None:
    outer, inner = Box(1000, 500), Box(400, 300)
    assert offset(outer, inner, "ce", None) == (300, 100)
    assert offset(outer, inner, "nowe", None) == (0, 0)
    assert offset(outer, inner, "soea", None) == (600, 200)
    assert offset(outer, inner, "fp", (0.0, 0.0)) == (0, 0)
    assert offset(outer, inner, "fp", (0.5, 0.5)) == (300, 100)
    assert offset(outer, inner, "fp", (0.9, 0.5)) == (600, 100)
