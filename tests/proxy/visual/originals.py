"""The originals the visual references are rendered from, made the same way on every machine.

They are built from scikit-image's bundled photos at test time (the repository keeps only the small
references): a camera-sized contact sheet (a 10-megapixel JPEG, so the largest device widths are real
downscales and JPEG shrink-on-load runs), a portrait sheet (a PNG like the generator's originals), the
astronaut (a face for smart crop) and scikit-image's logo cut out on transparency.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyvips
from skimage import data as skdata


def _motorcycle() -> np.ndarray:
    left: np.ndarray = skdata.stereo_motorcycle()[0]  # type: ignore[no-untyped-call]
    return left


# Photos with colour, faces, fine texture, text-like edges and flat areas; the order is the sheets' layout.
PHOTOS: tuple[Callable[[], np.ndarray], ...] = (
    skdata.astronaut, skdata.coffee, skdata.chelsea, _motorcycle, skdata.rocket, skdata.hubble_deep_field,
    skdata.retina, skdata.immunohistochemistry, skdata.colorwheel, skdata.camera, skdata.brick, skdata.gravel,
)  # fmt: skip


def _vips(array: np.ndarray) -> pyvips.Image:
    """RGB, or RGBA when the photo has alpha; grey photos become three equal bands."""
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array, dtype=np.uint8))
    return image.copy(interpretation="srgb")


def contact_sheet(columns: int, rows: int, cell_width: int, cell_height: int) -> pyvips.Image:
    cells = []
    for index in range(columns * rows):
        photo = _vips(PHOTOS[index % len(PHOTOS)]())
        cells.append(photo.thumbnail_image(cell_width, height=cell_height, crop="centre"))
    sheet: pyvips.Image = pyvips.Image.arrayjoin(cells, across=columns)
    return sheet.copy_memory()


def _sheet() -> bytes:
    data: bytes = contact_sheet(5, 4, 768, 640).write_to_buffer(".jpg", Q=92, keep="none")
    return data  # 3840x2560


def _portrait() -> bytes:
    # compression=1: this file is remade on every run, and its size does not matter.
    data: bytes = contact_sheet(2, 3, 800, 800).write_to_buffer(".png", compression=1, keep="none")
    return data  # 1600x2400


def _astronaut() -> bytes:
    photo = skdata.astronaut()  # type: ignore[no-untyped-call]
    data: bytes = _vips(photo).write_to_buffer(".png", compression=1, keep="none")
    return data  # 512x512


def _logo() -> bytes:
    # scikit-image's logo is an opaque disc on white; cut the disc out (with a soft edge), as a logo
    # with transparency would come.
    rgb = skdata.logo()[..., :3]  # type: ignore[no-untyped-call]
    y, x = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
    radius = np.hypot(x - 250, y - 250)
    alpha = (np.clip(241 - radius, 0, 1.5) / 1.5 * 255).astype(np.uint8)
    data: bytes = _vips(np.dstack([rgb, alpha])).write_to_buffer(".png", compression=1, keep="none")
    return data  # 500x500, transparent around the disc


ORIGINALS: dict[str, Callable[[], bytes]] = {
    "sheet.jpg": _sheet, "portrait.png": _portrait, "astronaut.png": _astronaut, "logo.png": _logo,
}  # fmt: skip


def write_originals(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in ORIGINALS.items():
        (directory / name).write_bytes(make())
