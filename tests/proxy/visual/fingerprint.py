"""What a render is compared by: two small images, and how far the render's own have moved from them.

- The *overview*: the whole render shrunk to fit OVERVIEW px, compared by colour difference (CIEDE2000).
  It shows the crop, gravity, rotation, padding and colours, and is blind to resampling and encoder noise:
  at 32 px every pixel averages dozens of the render's.
- The *tile*: TILE x TILE pixels of the render at full resolution, where encoder artefacts (blocks, ringing,
  smeared chroma, lost texture) show; compared by SSIMULACRA2 (imgedge.imaging.autoquality, the metric
  q:auto targets). Its place is chosen when the reference is made: the most detailed of five candidate
  windows (the centre and the quarters' centres), so it never lands on a flat pad or sky.

Both are lossless PNGs of a few KB, so the references stay small. Why these metrics and thresholds, and how
they were checked against deliberately broken and harmlessly changed pipelines: docs/quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

from imgedge.imaging.autoquality import linear_planes
from imgedge.imaging.ssimulacra2 import ssimulacra2

OVERVIEW = 32
TILE = 48
# The 95th percentile of the overview's CIEDE2000 difference may be at most this (1 is a just noticeable
# difference): other resampling kernels, a pre-shrunk source and other encoder efforts measured up to 2.5;
# 8% colour casts 3.1 to 9.5 (2.8 on the saturated logo), gamma errors from 5.1, wrong crops from 48.
MAX_OVERVIEW_DE = 3.0
# The tile's SSIMULACRA2 against the reference tile must be at least this (100: identical): resampling
# changes and other encoder efforts measured from 71 up; encodes at quality 5 fell below it on 24 of 26
# lossy renders, at quality 20 on 19.
MIN_TILE = 60.0
_BACKGROUNDS = ([0, 0, 0], [255, 255, 255])  # alpha is compared flattened on both


@dataclass(frozen=True, slots=True)
class Fingerprint:
    overview: pyvips.Image
    tile: pyvips.Image
    tile_at: tuple[int, int]  # the tile's top-left corner in the render


@dataclass(frozen=True, slots=True)
class Comparison:
    overview_de: float  # 95th percentile CIEDE2000
    tile: float  # SSIMULACRA2

    @property
    def passed(self) -> bool:
        return self.overview_de <= MAX_OVERVIEW_DE and self.tile >= MIN_TILE


def decode(body: bytes) -> pyvips.Image:
    image = pyvips.Image.new_from_buffer(body, "", access="sequential")
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    return image.cast("uchar").copy_memory()


def fingerprint(image: pyvips.Image, tile_at: tuple[int, int] | None = None) -> Fingerprint:
    """`tile_at`: where the reference took its tile; None picks the place (when a reference is made)."""
    overview = image.thumbnail_image(OVERVIEW, height=OVERVIEW).copy_memory()
    width, height = min(TILE, image.width), min(TILE, image.height)
    left, top = tile_at if tile_at is not None else _most_detailed(image, width, height)
    return Fingerprint(overview, image.extract_area(left, top, width, height).copy_memory(), (left, top))


def _most_detailed(image: pyvips.Image, width: int, height: int) -> tuple[int, int]:
    grey = image.flatten() if image.hasalpha() else image
    grey = grey.colourspace("b-w") if grey.bands >= 3 else grey
    candidates: list[tuple[float, int, int, int]] = []
    for fx, fy in ((0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        left = min(max(0, round(image.width * fx - width / 2)), image.width - width)
        top = min(max(0, round(image.height * fy - height / 2)), image.height - height)
        candidates.append(
            (grey.extract_area(left, top, width, height).deviate(), -len(candidates), left, top)
        )
    _, _, left, top = max(candidates)
    return left, top


def compare(reference: Fingerprint, render: Fingerprint) -> Comparison:
    return Comparison(
        _colour_difference(reference.overview, render.overview), _score(reference.tile, render.tile)
    )


def _flattened(image: pyvips.Image) -> list[pyvips.Image]:
    if not image.hasalpha():
        return [image]
    return [image.flatten(background=background) for background in _BACKGROUNDS]


def _same_shape(a: pyvips.Image, b: pyvips.Image) -> bool:
    return (a.width, a.height, a.hasalpha()) == (b.width, b.height, b.hasalpha())


def _colour_difference(reference: pyvips.Image, image: pyvips.Image) -> float:
    if not _same_shape(reference, image):
        return 100.0
    seen = _visible(reference) | _visible(image)  # transparent in both: nothing to see, whatever its RGB
    worst = 0.0
    for a, b in zip(_flattened(reference), _flattened(image), strict=True):
        de = a.colourspace("lab").dE00(b.colourspace("lab"))
        values = np.ndarray(buffer=de.write_to_memory(), dtype=np.float32, shape=(de.height, de.width))
        if seen.any():
            worst = max(worst, float(np.percentile(values[seen], 95)))
    return round(worst, 2)


def _visible(image: pyvips.Image) -> np.ndarray:
    if not image.hasalpha():
        return np.ones((image.height, image.width), dtype=bool)
    alpha = image.extract_band(image.bands - 1)
    return np.ndarray(buffer=alpha.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width)) > 0


def _score(reference: pyvips.Image, image: pyvips.Image) -> float:
    if not _same_shape(reference, image):
        return 0.0
    pairs = zip(_flattened(reference), _flattened(image), strict=True)
    return round(min(ssimulacra2(linear_planes(a), linear_planes(b)) for a, b in pairs), 2)


def write(fp: Fingerprint, directory: Path, render_id: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    fp.overview.write_to_file(str(directory / f"{render_id}.png"), compression=9, keep="none")
    fp.tile.write_to_file(str(directory / f"{render_id}.tile.png"), compression=9, keep="none")


def read(directory: Path, render_id: str, tile_at: tuple[int, int]) -> Fingerprint:
    return Fingerprint(
        pyvips.Image.new_from_file(str(directory / f"{render_id}.png")).copy_memory(),
        pyvips.Image.new_from_file(str(directory / f"{render_id}.tile.png")).copy_memory(),
        tile_at,
    )


def diff_sheet(reference: Fingerprint, render: Fingerprint, path: Path) -> None:
    """Reference | this render | their difference (x4): the overview above (shown 8x), the tile below (4x)."""
    rows = [_diff_row(reference.overview, render.overview, 8), _diff_row(reference.tile, render.tile, 4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet = pyvips.Image.arrayjoin(rows, across=1, shim=8, background=[255])
    sheet.write_to_file(str(path))


def _diff_row(reference: pyvips.Image, image: pyvips.Image, zoom: int) -> pyvips.Image:
    a, b = _flat(reference), _flat(image)
    if (a.width, a.height) == (b.width, b.height):
        difference = ((a - b).abs() * 4).cast("uchar")
    else:  # another size: nothing to subtract
        difference = pyvips.Image.black(a.width, a.height, bands=3) + 255
    cells = [c.cast("uchar").resize(zoom, kernel="nearest") for c in (a, b, difference)]
    row: pyvips.Image = pyvips.Image.arrayjoin(cells, shim=8, background=[255])
    return row


def _flat(image: pyvips.Image) -> pyvips.Image:
    rgb = image.flatten(background=[128, 128, 128]) if image.hasalpha() else image
    return rgb if rgb.bands == 3 else rgb.bandjoin([rgb, rgb])
