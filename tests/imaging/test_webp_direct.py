"""WebP through libwebp directly: libvips' bytes exactly, and only where it can be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pyvips

from imgedge.imaging import webp_direct
from imgedge.imaging.encode import EncoderSettings, encode, libvips_save, save
from imgedge.imaging.libvips import binding
from tests.conftest import photo

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


@pytest.fixture(autouse=True)
def fresh_probe() -> Iterator[None]:
    webp_direct.matches_libvips.cache_clear()
    yield
    webp_direct.matches_libvips.cache_clear()


@pytest.fixture
def direct() -> None:
    """The direct path is on: with pyvips-binary its libwebp is the one Pillow's wheel carries."""
    if not binding().from_bundle:
        pytest.skip("Debian's libvips carries its own libwebp: the probe turns the direct path off there")
    assert webp_direct.matches_libvips()


def with_alpha(image: pyvips.Image) -> pyvips.Image:
    alpha = (image.extract_band(1) > 90).ifthenelse(255, image.extract_band(2)).cast("uchar")
    return image.bandjoin(alpha).copy(interpretation="srgb")


def with_xmp(image: pyvips.Image) -> pyvips.Image:
    image = image.copy()
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    return image


@pytest.mark.usefixtures("direct")
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
@pytest.mark.parametrize("size", [48, 400, 1024])
@pytest.mark.parametrize("alpha", [False, True])
def test_it_writes_libvips_bytes(name: str, size: int, alpha: bool) -> None:
    image = photo(name, size)
    image = (with_alpha(image) if alpha else image).copy_memory()
    for quality, effort in ((80, 2), (30, 0), (95, 4)):
        options = {"Q": quality, "effort": effort}
        assert webp_direct.takes(image, "none", options)
        assert webp_direct.encode(image, "none", options) == libvips_save(image, "webp", "none", **options)
    tagged = with_xmp(image)
    body = webp_direct.encode(tagged, "xmp", {"Q": 80, "effort": 2})
    assert body == libvips_save(tagged, "webp", "xmp", Q=80, effort=2)
    assert XMP in body


@pytest.mark.usefixtures("direct")
def test_encode_takes_the_direct_path_for_the_common_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("libvips' saver was used")

    image = photo("astronaut", 400).copy_memory()
    expected = libvips_save(image, "webp", "none", Q=80, effort=2)
    monkeypatch.setattr(pyvips.Image, "write_to_buffer", refuse)
    body = encode(image, "webp", quality=80, strip=True, settings=EncoderSettings())
    assert body == expected
    assert pyvips.Image.new_from_buffer(body, "").width == 400


@pytest.mark.usefixtures("direct")
@pytest.mark.parametrize(
    ("case", "keep", "options"),
    [
        ("smart subsampling (q:auto, small)", "none", {"Q": 80, "effort": 2, "smart_subsample": True}),
        ("a preset (q:auto's drawing tuning)", "none", {"Q": 80, "effort": 2, "preset": "drawing"}),
        ("metadata kept", "exif:xmp:iptc:icc", {"Q": 80, "effort": 2}),
        ("grey", "none", {"Q": 80, "effort": 2}),
        ("16-bit", "none", {"Q": 80, "effort": 2}),
        ("over 1 MP", "none", {"Q": 80, "effort": 2}),
        ("animated", "none", {"Q": 80, "effort": 2}),
    ],
)
def test_everything_else_stays_with_libvips(case: str, keep: str, options: dict[str, object]) -> None:
    image = photo("coffee", 200)
    if case == "grey":
        image = image.colourspace("b-w")
    elif case == "16-bit":
        image = image.cast("ushort").copy(interpretation="rgb16")
    elif case == "over 1 MP":
        image = image.resize(5.2)
    elif case == "animated":
        image = image.join(image, "vertical").copy()
        image.set_type(pyvips.GValue.gint_type, "page-height", 200)
    assert not webp_direct.takes(image, keep, options), case
    assert pyvips.Image.new_from_buffer(save(image, "webp", keep, **options), "").width == image.width


@pytest.mark.usefixtures("direct")
def test_a_pillow_failure_hands_the_encode_to_libvips(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object) -> bytes:
        raise OSError("cannot write file as WebP (encoder returned None)")

    image = photo("coffee", 300).copy_memory()
    monkeypatch.setattr(webp_direct, "encode", fails)
    assert webp_direct.takes(image, "none", {"Q": 80, "effort": 2})
    assert save(image, "webp", "none", Q=80, effort=2) == libvips_save(image, "webp", "none", Q=80, effort=2)


def test_a_pillow_whose_libwebp_differs_turns_the_direct_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    real = webp_direct.encode
    monkeypatch.setattr(webp_direct, "encode", lambda *args: real(*args) + b"\0")
    assert not webp_direct.matches_libvips()
    image = photo("chelsea", 300).copy_memory()
    assert not webp_direct.takes(image, "none", {"Q": 80, "effort": 2})
    assert save(image, "webp", "none", Q=80, effort=2) == libvips_save(image, "webp", "none", Q=80, effort=2)
