"""ExifTool (Debian's libimage-exiftool-perl) as the independent reader of what served images carry."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import pyvips


def exiftool_tags(data: bytes, suffix: str) -> dict[str, Any]:
    """Every tag ExifTool finds, as `Group:Tag` → value (group 1 names, e.g. `XMP-iptcExt`)."""
    binary = shutil.which("exiftool")
    if binary is None:
        pytest.fail(
            "exiftool is not installed; `make test` installs it (apt-get install libimage-exiftool-perl)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"image{suffix}"
        path.write_bytes(data)
        done = subprocess.run(
            [binary, "-j", "-G1", "-a", "-u", "-charset", "utf8", str(path)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    tags: dict[str, Any] = json.loads(done.stdout)[0]
    return tags


# What libvips before 8.15 (Debian 12's 8.14) writes by itself whenever it writes EXIF, and in WebP always:
# the pixels' orientation, resolution and size, nothing of the source's (imgedge/imaging/encode.py).
LIBVIPS_MADE_EXIF = frozenset({
    "IFD0:Orientation", "IFD0:XResolution", "IFD0:YResolution", "IFD0:ResolutionUnit",
    "IFD0:YCbCrPositioning", "ExifIFD:ExifVersion", "ExifIFD:ComponentsConfiguration",
    "ExifIFD:FlashpixVersion", "ExifIFD:ColorSpace", "ExifIFD:ExifImageWidth", "ExifIFD:ExifImageHeight",
})  # fmt: skip
HAS_KEEP = (pyvips.version(0), pyvips.version(1)) >= (8, 15)


def metadata_groups(tags: dict[str, Any]) -> set[str]:
    """The metadata groups present, leaving out what describes the file or its pixels (and, before
    libvips 8.15, the EXIF block it makes up)."""
    structural = {"ExifTool", "System", "File", "PNG", "PNG-pHYs", "Composite", "RIFF", "QuickTime", "JFIF"}
    made_up = set() if HAS_KEEP else LIBVIPS_MADE_EXIF
    groups = {name.split(":")[0] for name in tags if ":" in name and name not in made_up}
    return {g for g in groups if g not in structural and not g.startswith(("ItemList", "Track", "Meta"))}
