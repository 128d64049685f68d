from __future__ import annotations

import pytest
import pyvips

from imgedge.imaging.encode import EncoderSettings
from imgedge.imaging.errors import CorruptImage, SourceTooLarge, UnsupportedImage
from imgedge.proxy.autoquality import Choice, QualityPlan
from imgedge.proxy.pipeline.decoded import decode
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import OptionError
from tests.conftest import photo

MAX_PIXELS = 50_000_000


def run(
    data: bytes, options: str, fmt: str = "webp", max_pixels: int = MAX_PIXELS
) -> tuple[Rendered, pyvips.Image]:
    spec = parse_options([o for o in options.split("/") if o], ParseSettings())
    rendered = transform(data, spec, fmt, max_pixels=max_pixels, settings=EncoderSettings())
    decoded = pyvips.Image.new_from_buffer(rendered.body, "")
    assert (decoded.width, decoded.height) == (rendered.width, rendered.height)
    return rendered, decoded


GRAVITIES = ["ce", "no", "so", "ea", "we", "noea", "sowe", "sm", "fp:0.2:0.8"]
BOXES = [(400, 300), (300, 400), (256, 256), (800, 120)]


@pytest.mark.parametrize("gravity", GRAVITIES)
@pytest.mark.parametrize(("w", "h"), BOXES)
def test_cover_is_exact_to_the_pixel(landscape_png: bytes, gravity: str, w: int, h: int) -> None:
    _, out = run(landscape_png, f"w:{w}/h:{h}/fit:cover/g:{gravity}")
    assert (out.width, out.height) == (w, h)


@pytest.mark.parametrize("gravity", ["ce", "no", "soea", "fp:0.9:0.1"])
@pytest.mark.parametrize(("w", "h"), BOXES)
def test_pad_is_exact_and_keeps_the_whole_image(landscape_png: bytes, gravity: str, w: int, h: int) -> None:
    _, out = run(landscape_png, f"w:{w}/h:{h}/fit:pad/g:{gravity}/bg:ff0000", fmt="png")
    assert (out.width, out.height) == (w, h)
    corners = [out.getpoint(0, 0), out.getpoint(w - 1, h - 1)]
    assert any(c[:3] == [255.0, 0.0, 0.0] for c in corners)  # the padding is there, in the colour asked


@pytest.mark.parametrize(("w", "h"), BOXES)
def test_inside_and_force(landscape_png: bytes, w: int, h: int) -> None:
    _, inside = run(landscape_png, f"w:{w}/h:{h}")
    assert inside.width <= w and inside.height <= h and (inside.width == w or inside.height == h)
    assert abs(inside.width / inside.height - 900 / 600) < 0.02 * max(
        1, 900 / 600 * 600 / min(inside.height, 600)
    )
    _, forced = run(landscape_png, f"w:{w}/h:{h}/fit:force")
    assert (forced.width, forced.height) == (w, h)


def test_no_enlarge_by_default_and_enlarge_on_request(landscape_png: bytes) -> None:
    _, out = run(landscape_png, "w:2000")
    assert (out.width, out.height) == (900, 600)
    _, out = run(landscape_png, "w:1800/el:1")
    assert (out.width, out.height) == (1800, 1200)
    _, out = run(landscape_png, "w:1800/h:600/fit:cover")  # cropped to the aspect, never upscaled
    assert out.width == 900 and out.height == 300


def test_dpr_and_aspect_shortcuts(photo_png: bytes) -> None:
    _, out = run(photo_png, "w:200/dpr:2/ar:16:9/fit:cover")
    assert (out.width, out.height) == (400, 225)
    _, out = run(photo_png, "ar:16:9")
    assert (out.width, out.height) == (1024, 576)


def _split_image() -> bytes:
    """Top half red, bottom half blue, so a crop's gravity can be read back from the pixels."""
    red = pyvips.Image.black(300, 150).new_from_image([255, 0, 0])
    blue = pyvips.Image.black(300, 150).new_from_image([0, 0, 255])
    return bytes(red.join(blue, "vertical").copy(interpretation="srgb").write_to_buffer(".png"))


RED, BLUE = [255, 0, 0], [0, 0, 255]


@pytest.mark.parametrize(
    ("gravity", "colour"), [("no", RED), ("so", BLUE), ("fp:0.5:0.1", RED), ("fp:0.5:0.95", BLUE)]
)
def test_gravity_chooses_the_region(gravity: str, colour: list[int]) -> None:
    _, out = run(_split_image(), f"w:300/h:100/fit:cover/g:{gravity}", fmt="png")
    assert [round(v) for v in out.getpoint(150, 50)] == colour
    assert out.avg() == pytest.approx(sum(colour) / 3, abs=1)


def test_explicit_crop_rotate_flip(landscape_png: bytes) -> None:
    _, out = run(landscape_png, "c:100:50:400:200")
    assert (out.width, out.height) == (400, 200)
    _, out = run(landscape_png, "c:800:500:400:400")  # clipped at the image edge
    assert (out.width, out.height) == (100, 100)
    _, out = run(landscape_png, "rot:90")
    assert (out.width, out.height) == (600, 900)
    _, out = run(landscape_png, "rot:90/w:400/h:300/fit:cover")  # w and h describe the output
    assert (out.width, out.height) == (400, 300)
    with pytest.raises(OptionError, match="crop"):
        run(landscape_png, "c:5000:0:10:10")


def test_flip_and_flop_mirror_pixels() -> None:
    source = _split_image()
    _, flipped = run(source, "flip:1", fmt="png")
    assert [round(v) for v in flipped.getpoint(10, 10)] == [0, 0, 255]
    _, flopped = run(source, "flop:1", fmt="png")
    assert [round(v) for v in flopped.getpoint(10, 10)] == [255, 0, 0]


@pytest.mark.parametrize(
    ("negotiated", "expected"),
    [
        ("avif", "heif"),
        ("webp", "webp"),
        ("legacy", "jpeg"),
        ("png", "png"),
        ("gif", "gif"),
        ("jpeg", "jpeg"),
    ],
)
def test_every_format_decodes(photo_png: bytes, negotiated: str, expected: str) -> None:
    _rendered, out = run(photo_png, "w:400", fmt=negotiated)
    assert out.get("vips-loader").startswith(expected)
    assert out.width == 400


def test_webp_and_avif_are_much_smaller_than_the_png_original(photo_png: bytes) -> None:
    for fmt in ("webp", "avif"):
        rendered, _ = run(photo_png, "w:1024", fmt=fmt)
        assert len(rendered.body) < 0.15 * len(photo_png), fmt


def test_alpha_is_flattened_for_jpeg_and_kept_for_png(alpha_png: bytes) -> None:
    rendered, out = run(alpha_png, "w:200/bg:00ff00", fmt="legacy")
    assert rendered.format == "png" and out.hasalpha()
    rendered, out = run(alpha_png, "w:200/bg:00ff00", fmt="jpeg")
    assert not out.hasalpha() and out.bands == 3
    rendered, out = run(alpha_png, "w:200", fmt="webp")
    assert out.hasalpha()


def test_exif_orientation_is_applied_and_metadata_stripped() -> None:
    image = photo("coffee")  # 600 x 400
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    jpeg = image.write_to_buffer(".jpg", Q=90)
    _rendered, out = run(jpeg, "w:200", fmt="jpeg")
    assert (out.width, out.height) == (200, 300)
    assert out.get_typeof("exif-data") == 0 or b"GPS" not in out.get("exif-data")
    assert out.get_typeof("icc-profile-data") == 0
    _, kept = run(jpeg, "w:200/strip:0", fmt="jpeg")
    assert kept.get_typeof("exif-data") != 0


def test_cmyk_16bit_and_grey_sources_come_out_as_srgb() -> None:
    rgb = photo("coffee", 256)
    cmyk = rgb.icc_transform("cmyk", intent="perceptual").write_to_buffer(".jpg")
    sixteen = (rgb.cast("ushort") * 256).copy(interpretation="rgb16").write_to_buffer(".png")
    grey = rgb.colourspace("b-w").write_to_buffer(".png")
    for source in (cmyk, sixteen, grey):
        _, out = run(source, "w:100", fmt="png")
        assert out.interpretation == "srgb" and out.format == "uchar"


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [pyvips.Image.black(64, 48).new_from_image([i * 40, 0, 0]) for i in range(5)]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 48)
    gif = strip.write_to_buffer(".gif")
    _, out = run(gif, "w:32", fmt="png")
    assert (out.width, out.height) == (32, 24)


def test_limits_and_bad_sources(photo_png: bytes) -> None:
    with pytest.raises(SourceTooLarge):
        run(photo_png, "w:10", max_pixels=1000)
    with pytest.raises(CorruptImage):
        run(b"", "w:10")
    with pytest.raises(UnsupportedImage):
        run(b"this is not an image at all, just text" * 10, "w:10")
    with pytest.raises(CorruptImage):
        run(photo_png[: len(photo_png) // 2], "w:10")
    jpeg = photo("coffee").write_to_buffer(".jpg")
    with pytest.raises(CorruptImage):
        run(jpeg[: len(jpeg) // 2], "w:10")


def test_decompression_bomb_is_refused_from_the_header() -> None:
    bomb = pyvips.Image.black(20000, 20000).write_to_buffer(".png", compression=9)
    assert len(bomb) < 2_000_000
    with pytest.raises(SourceTooLarge):
        run(bomb, "w:10")


def test_blur_and_sharpen_change_pixels(photo_png: bytes) -> None:
    _, plain = run(photo_png, "w:200", fmt="png")
    _, blurred = run(photo_png, "w:200/bl:3", fmt="png")
    _, sharp = run(photo_png, "w:200/sh:2", fmt="png")
    assert (plain - blurred).abs().avg() > 1
    assert (plain - sharp).abs().avg() > 0.2


@pytest.mark.parametrize(
    "options",
    ["w:400/h:300/fit:cover/g:sm", "w:300/h:300/fit:pad", "rot:90/w:200", "c:10:10:300:200/w:100", "ar:4:3"],
)
def test_decoded_pixels_render_like_the_encoded_original(landscape_png: bytes, options: str) -> None:
    spec = parse_options(options.split("/"), ParseSettings())
    decoded = decode(landscape_png, max_pixels=MAX_PIXELS)
    assert (decoded.width, decoded.height, decoded.bands) == (900, 600, 3)
    from_png = transform(landscape_png, spec, "png", max_pixels=MAX_PIXELS, settings=EncoderSettings())
    from_pixels = transform(decoded, spec, "png", max_pixels=MAX_PIXELS, settings=EncoderSettings())
    assert (from_png.width, from_png.height) == (from_pixels.width, from_pixels.height)
    a = pyvips.Image.new_from_buffer(from_png.body, "")
    b = pyvips.Image.new_from_buffer(from_pixels.body, "")
    assert (a - b).abs().avg() < 1.0


def _animated_gif(frames: int = 5) -> bytes:
    images = [pyvips.Image.black(64, 48).new_from_image([i * 40 % 256, 0, 0]) for i in range(frames)]
    strip = pyvips.Image.arrayjoin(images, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 48)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [80] * frames)
    return bytes(strip.write_to_buffer(".gif"))


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_animation_is_kept_when_the_output_can_hold_it(fmt: str) -> None:
    rendered, _ = run(_animated_gif(), "w:32", fmt=fmt)
    assert (rendered.width, rendered.height) == (32, 24)
    every = pyvips.Image.new_from_buffer(rendered.body, "", n=-1)
    assert every.get("n-pages") == 5 and every.get("page-height") == 24 and every.height == 120
    frames = [every.crop(0, 24 * i, 32, 24).avg() for i in range(5)]
    assert len({round(f) for f in frames}) == 5  # five different frames, not one repeated


@pytest.mark.parametrize(
    ("options", "fmt"), [("w:32", "avif"), ("w:32/h:32/fit:cover", "gif"), ("rot:90", "webp")]
)
def test_animation_falls_back_to_the_first_frame(options: str, fmt: str) -> None:
    rendered, _ = run(_animated_gif(), options, fmt=fmt)
    every = pyvips.Image.new_from_buffer(rendered.body, "", n=-1)
    assert every.get_typeof("n-pages") == 0 or every.get("n-pages") == 1


def test_a_learned_tuning_reaches_the_encoder(photo_png: bytes) -> None:
    spec = parse_options(["w:400", "q:auto"], ParseSettings())

    def learned(tuning: str) -> Rendered:
        plan = QualityPlan(spec.quality_target, {f"webp/s/{spec.quality_target}": Choice(69, tuning)})
        return transform(
            photo_png, spec, "webp", max_pixels=MAX_PIXELS, settings=EncoderSettings(), quality_plan=plan
        )

    drawing, default = learned("drawing"), learned("")
    assert drawing.quality == default.quality == 69 and drawing.learn is None
    assert drawing.body != default.body  # the two plans differ only in the preset
    decoded = pyvips.Image.new_from_buffer(drawing.body, "")
    size = (decoded.width, decoded.height)
    assert size == (drawing.width, drawing.height) == (default.width, default.height)
