"""Visual regression: every reference render, made again through the proxy, still looks like its reference.

The references (tests/proxy/visual/references) are small PNGs of each render's overview and centre tile;
`make visual-references` remakes them on purpose. A render that moved fails with the path of a diff sheet
under test-output/visual/. How the tolerances were chosen: docs/quality.md, "Visual regression".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from starlette.testclient import TestClient

from imgedge.imaging.encode import EncoderSettings
from imgedge.url.build import build_path
from tests.proxy.visual import fingerprint
from tests.proxy.visual.cases import RENDERS, Render
from tests.proxy.visual.originals import write_originals
from tests.proxy.visual.renders import KEY, MANIFEST, REFERENCES, deliver, proxy

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "visual"
MANIFEST_ENTRIES: dict[str, dict[str, Any]] = json.loads(MANIFEST.read_text())


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("visual") / "originals"
    write_originals(directory)
    return directory


@pytest.fixture(scope="module")
def plain(originals: Path) -> Iterator[TestClient]:
    with proxy(originals, learn=False) as client:
        yield client


@pytest.fixture(scope="module")
def learning(originals: Path) -> Iterator[TestClient]:
    with proxy(originals, learn=True) as client:
        yield client


def test_every_render_has_a_reference() -> None:
    assert sorted(MANIFEST_ENTRIES) == sorted(r.id for r in RENDERS), "run `make visual-references`"


@pytest.mark.parametrize("render", RENDERS, ids=lambda r: r.id)
def test_render_matches_its_reference(render: Render, request: pytest.FixtureRequest) -> None:
    client: TestClient = request.getfixturevalue("learning" if render.case.learn_from_width else "plain")
    expected = MANIFEST_ENTRIES[render.id]
    delivered = deliver(client, render)
    image = fingerprint.decode(delivered.body)
    reference = fingerprint.read(REFERENCES, render.id, tuple(expected["tile_at"]))
    facts = (delivered.content_type, image.width, image.height)
    same_size = facts == (expected["content_type"], expected["width"], expected["height"])
    now = fingerprint.fingerprint(image, reference.tile_at if same_size else None)
    result = fingerprint.compare(reference, now)
    if not same_size or not result.passed:
        diff = OUTPUT / f"{render.id}.png"
        fingerprint.diff_sheet(reference, now, diff)
        (OUTPUT / f"{render.id}{_suffix(delivered.content_type)}").write_bytes(delivered.body)
        pytest.fail(
            f"{render.id} ({expected['url']}) moved: {facts} against the reference's "
            f"{expected['content_type']} {expected['width']}x{expected['height']}; overview colour "
            f"difference {result.overview_de} (95th percentile CIEDE2000, at most "
            f"{fingerprint.MAX_OVERVIEW_DE}), "
            f"tile SSIMULACRA2 {result.tile} (at least {fingerprint.MIN_TILE}). Diff (reference | now | "
            f"difference x4): {diff}. If the change is meant, `make visual-references`."
        )


def _suffix(content_type: str) -> str:
    return "." + content_type.removeprefix("image/").replace("jpeg", "jpg")


# The tolerances must tell what a broken step makes from harmless change, or the test above proves nothing.
# A broken step is shown by the URL whose render it would give (a crop without its gravity is the same
# crop at `g:ce`), rendered by the proxy for real and compared with the reference of the intact URL.
BROKEN_STEPS = (
    ("gravity ignored", "gravity-north-360x2", "g:no", "g:ce"),
    ("smart crop ignored", "smart-crop-360x1", "g:sm", "g:ce"),
    ("rotated the wrong way", "rotate-flop-360x1", "rot:90", "rot:270"),
    ("flop ignored", "rotate-flop-360x1", "flop", ""),
    ("pad colour ignored", "pad-colour-360x1", "bg:1e3a5f", "bg:ffffff"),
    ("pad placed by the wrong gravity", "pad-colour-1280x1", "g:we", "g:ce"),
    ("transparency lost", "pad-transparent-360x1", "bg:00000000", "bg:000000"),
    ("alpha flattened on the wrong colour", "alpha-on-jpeg-360x1", "bg:f5c400", "bg:ffffff"),
)
BLOCKY = EncoderSettings(quality={"jpeg": 10, "webp": 10, "avif": 10})
BLOCKY_RENDERS = ("hero-cover-360x1", "hero-cover-1280x1", "inside-webp-360x1", "square-avif-360x2")
SLOWER_ENCODERS = EncoderSettings(effort={"webp": 6, "avif": 4})  # other encoder decisions, same quality
SLOWER_RENDERS = ("inside-webp-360x1", "square-avif-360x1", "pad-colour-360x1")
PYRAMID_RENDERS = ("hero-cover-360x1", "hero-cover-1280x1", "inside-webp-768x2")


def _by_id(render_id: str) -> Render:
    return next(r for r in RENDERS if r.id == render_id)


def _compare(render: Render, body: bytes) -> fingerprint.Comparison:
    expected = MANIFEST_ENTRIES[render.id]
    reference = fingerprint.read(REFERENCES, render.id, tuple(expected["tile_at"]))
    image = fingerprint.decode(body)
    assert (image.width, image.height) == (expected["width"], expected["height"])
    return fingerprint.compare(reference, fingerprint.fingerprint(image, reference.tile_at))


@pytest.mark.parametrize(
    ("broken", "render_id", "segment", "instead"), BROKEN_STEPS, ids=[b[0] for b in BROKEN_STEPS]
)
def test_a_broken_step_fails(
    broken: str, render_id: str, segment: str, instead: str, plain: TestClient
) -> None:
    render = _by_id(render_id)
    segments = [instead if s == segment else s for s in render.segments if s != segment or instead]
    assert segments != render.segments
    delivered = deliver(plain, render, build_path(render.case.asset, key=KEY, extra=segments))
    assert not _compare(render, delivered.body).passed, broken


@pytest.fixture(scope="module")
def blocky(originals: Path) -> Iterator[TestClient]:
    with proxy(originals, learn=False, encoder=BLOCKY) as client:
        yield client


@pytest.mark.parametrize("render_id", BLOCKY_RENDERS)
def test_a_blocky_encode_fails(render_id: str, blocky: TestClient) -> None:
    render = _by_id(render_id)
    assert not _compare(render, deliver(blocky, render).body).passed


@pytest.mark.parametrize("render_id", ("hero-cover-360x1", "smart-crop-360x1", "auto-webp-360x2"))
def test_a_colour_cast_fails(render_id: str, plain: TestClient) -> None:
    """An 8% cast towards red (what a lost colour profile or a wrong matrix does, only milder)."""
    render = _by_id(render_id)
    image = fingerprint.decode(deliver(plain, render).body)
    cast = (image * [1.08, 1.0, 0.92, *[1.0] * (image.bands - 3)]).cast("uchar")
    assert not _compare(render, cast.write_to_buffer(".png")).passed


@pytest.fixture(scope="module")
def slower(originals: Path) -> Iterator[TestClient]:
    with proxy(originals, learn=False, encoder=SLOWER_ENCODERS) as client:
        yield client


@pytest.mark.parametrize("render_id", SLOWER_RENDERS)
def test_other_encoder_decisions_pass(render_id: str, slower: TestClient) -> None:
    render = _by_id(render_id)
    result = _compare(render, deliver(slower, render).body)
    assert result.passed, result


@pytest.mark.parametrize("render_id", PYRAMID_RENDERS)
def test_a_pre_shrunk_source_passes(render_id: str, originals: Path, plain: TestClient) -> None:
    """What a resolution pyramid does: the variant is resized from a half-size copy of the original."""
    half = originals / "sheet-half.png"
    if not half.exists():
        sheet = pyvips.Image.new_from_file(str(originals / "sheet.jpg"))
        sheet.resize(0.5, kernel="linear").write_to_file(str(half), compression=1)
    render = _by_id(render_id)
    delivered = deliver(plain, render, build_path("sheet-half", key=KEY, extra=render.segments))
    result = _compare(render, delivered.body)
    assert result.passed, result
