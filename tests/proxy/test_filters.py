"""The steps and sizes thumbor and imgproxy users rely on, as native options: trim, crop areas, orig sides,
clamp / outside / auto fits, extend, adaptive boxes, focal regions, brightness, contrast, grayscale, round
corners, watermarks, flatten and max_bytes."""

from __future__ import annotations

import pytest
import pyvips

from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy.pipeline.geometry import Box, plan, resolve
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.proxy.pipeline.watermark import mark_size, placement
from imgedge.url import ParseSettings, parse_options
from imgedge.url.spec import Watermark
from tests.conftest import photo

SETTINGS = ParseSettings(watermark="logo")


def run(
    data: bytes, options: str, fmt: str = "png", mark: bytes | None = None
) -> tuple[Rendered, pyvips.Image]:
    spec = parse_options([o for o in options.split("/") if o], SETTINGS)
    rendered = transform(data, spec, fmt, max_pixels=50_000_000, settings=EncoderSettings(), mark=mark)
    return rendered, pyvips.Image.new_from_buffer(rendered.body, "")


def sized(w: int, h: int, options: str) -> tuple[int, int]:
    spec = resolve(parse_options(options.split("/"), SETTINGS), w, h)
    p = plan(w, h, spec)
    final = p.pad or p.crop or p.scaled
    return final.width, final.height


@pytest.mark.parametrize(
    ("source", "options", "size"),
    [
        ((600, 400), "w:300/h:200/fit:clamp", (300, 200)),
        ((100, 100), "w:300/h:200/fit:clamp", (100, 100)),  # each side at most the source's
        ((1000, 150), "w:300/h:200/fit:clamp", (300, 150)),
        ((1000, 150), "w:300/h:200/fit:cover", (225, 150)),  # cover keeps the box's ratio instead
        ((100, 100), "w:300/h:200/fit:clamp/ex:1", (300, 200)),
        ((600, 400), "w:300/h:100/fit:outside", (300, 200)),
        ((600, 400), "w:900/h:100/fit:outside/el:1", (900, 600)),
        ((600, 400), "w:200/h:300/fit:auto", (200, 133)),  # orientations differ: fit inside
        ((600, 400), "w:300/h:200/fit:auto", (300, 200)),  # the same: fill
        ((600, 400), "w:200/h:300/ad:1", (300, 200)),  # the box turned to the source's orientation
        ((600, 400), "w:orig/h:100/fit:cover", (600, 100)),
        ((600, 400), "w:orig", (600, 400)),
    ],
)
def test_sizes(source: tuple[int, int], options: str, size: tuple[int, int]) -> None:
    assert sized(*source, options) == size


def test_a_focal_region_becomes_a_focal_point_relative_to_what_was_cut() -> None:
    spec = parse_options(["w:100", "h:100", "fit:cover", "g:fr:100:50:200:150"], SETTINGS)
    assert resolve(spec, 600, 400).focus == (0.25, 0.25)
    assert resolve(spec, 300, 200, origin=(75, 0)).focus == (0.25, 0.5)


def framed() -> bytes:
    inner = photo("coffee").resize(0.25)
    return bytes(inner.embed(20, 10, inner.width + 40, inner.height + 30, extend="white").pngsave_buffer())


def test_trim_cuts_the_flat_border() -> None:
    _, out = run(framed(), "t:10")
    assert (out.width, out.height) == (150, 100)
    _, bottom_right = run(framed(), "t:10:br")
    assert (bottom_right.width, bottom_right.height) == (150, 100)
    _, nothing = run(framed(), "t:10:000000")  # no black edge: nothing to trim
    assert (nothing.width, nothing.height) == (190, 130)


def test_crop_areas_are_placed_by_gravity() -> None:
    data = bytes(photo("coffee").pngsave_buffer())
    _, area = run(data, "c:300:200:nowe")
    assert (area.width, area.height) == (300, 200)
    _, half = run(data, "c:0.5:0.5:soea")
    assert (half.width, half.height) == (300, 200)
    original = pyvips.Image.new_from_buffer(data, "")
    assert half.getpoint(299, 199) == original.getpoint(599, 399)


def test_brightness_contrast_grayscale() -> None:
    grey = bytes(
        pyvips.Image.black(8, 8).new_from_image([100, 100, 100]).copy(interpretation="srgb").pngsave_buffer()
    )
    assert run(grey, "br:20")[1].getpoint(0, 0)[:3] == [151.0] * 3  # +20% of 255, as thumbor does
    assert run(grey, "co:30")[1].getpoint(0, 0)[:3] == [80.0] * 3  # 1.69 x (100 - 128) + 128
    colour = bytes(
        pyvips.Image.black(8, 8).new_from_image([200, 30, 30]).copy(interpretation="srgb").pngsave_buffer()
    )
    red, green, blue = run(colour, "gs:1")[1].getpoint(0, 0)[:3]
    assert red == green == blue


def test_round_corners_in_a_colour_or_transparent() -> None:
    data = bytes(
        pyvips.Image.black(100, 60).new_from_image([0, 0, 255]).copy(interpretation="srgb").pngsave_buffer()
    )
    _, red = run(data, "rc:20:20:ff0000")
    assert red.getpoint(0, 0)[:3] == [255.0, 0.0, 0.0] and red.getpoint(50, 30)[:3] == [0.0, 0.0, 255.0]
    _, clear = run(data, "rc:20:10:ffffff00")
    assert clear.hasalpha() and clear.getpoint(0, 0)[3] == 0 and clear.getpoint(50, 30)[3] == 255


def test_watermark_geometry() -> None:
    wm = Watermark("logo", position="soea", x="10", y="5p", width_ratio=0.25)
    assert mark_size(Box(400, 200), Box(50, 50), wm) == Box(100, 100)
    assert mark_size(Box(400, 200), Box(50, 50), Watermark("logo")) == Box(50, 50)
    assert placement(Box(400, 200), Box(100, 100), wm) == (290, 90)
    assert placement(Box(400, 200), Box(100, 100), Watermark("logo", position="nowe", x="3", y="4")) == (3, 4)


def test_watermark_is_laid_over_with_its_opacity() -> None:
    base = bytes(
        pyvips.Image.black(200, 100).new_from_image([0, 0, 0]).copy(interpretation="srgb").pngsave_buffer()
    )
    mark = bytes(
        pyvips.Image.black(20, 20)
        .new_from_image([255, 255, 255])
        .copy(interpretation="srgb")
        .pngsave_buffer()
    )
    _, out = run(base, "wm:0.5:nowe:10:10", mark=mark)
    assert out.getpoint(15, 15)[:3] == [128.0] * 3 or out.getpoint(15, 15)[:3] == [127.0] * 3
    assert out.getpoint(5, 5)[:3] == [0.0] * 3
    _, tiled = run(base, "wm:1:re:5:5", mark=mark)
    assert (
        tiled.getpoint(2, 2)[0] == 255 and tiled.getpoint(22, 2)[0] == 0 and tiled.getpoint(27, 2)[0] == 255
    )


def test_flatten_lays_alpha_onto_the_background_even_for_png(alpha_png: bytes) -> None:
    _, kept = run(alpha_png, "w:100")
    _, flat = run(alpha_png, "w:100/bg:ff0000/fl:1")
    assert kept.hasalpha() and not flat.hasalpha()


def test_max_bytes_lowers_the_quality_until_the_body_fits(photo_png: bytes) -> None:
    full, _ = run(photo_png, "w:400", fmt="jpeg")
    budget = len(full.body) // 3
    fitted, out = run(photo_png, f"w:400/mb:{budget}", fmt="jpeg")
    assert len(fitted.body) <= budget < len(full.body) and out.width == 400
    tiny, _ = run(photo_png, "w:400/mb:10", fmt="jpeg")  # cannot fit: the smallest attempt
    assert len(tiny.body) < budget
    png, _ = run(photo_png, "w:100/mb:10", fmt="png")  # no quality to lower
    assert len(png.body) > 10
