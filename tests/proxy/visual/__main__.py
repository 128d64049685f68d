"""Regenerate the visual references on purpose: `make visual-references` (see README, "Tests").

Renders every case through the proxy and prints how far each render moved from the reference it replaces;
only when every render succeeded are the overview and tile PNGs and the manifest written.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyvips

from tests.proxy.visual import fingerprint
from tests.proxy.visual.cases import RENDERS, Render
from tests.proxy.visual.originals import write_originals
from tests.proxy.visual.renders import MANIFEST, REFERENCES, Delivered, deliver, manifest_entry, proxy


def main() -> int:
    old: dict[str, Any] = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    made: dict[str, fingerprint.Fingerprint] = {}
    manifest: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        originals = Path(scratch) / "originals"
        write_originals(originals)
        with proxy(originals, learn=False) as plain, proxy(originals, learn=True) as learning:
            for render in RENDERS:
                delivered = deliver(learning if render.case.learn_from_width else plain, render)
                image = fingerprint.decode(delivered.body)
                made[render.id] = fingerprint.fingerprint(image)
                manifest[render.id] = manifest_entry(
                    render, delivered, image.width, image.height, made[render.id].tile_at
                )
                print(f"{render.id:32} {_moved(render, delivered, image, old.get(render.id))}")
    for render_id, new in made.items():
        fingerprint.write(new, REFERENCES, render_id)
    for stale in set(old) - set(manifest):
        for suffix in (".png", ".tile.png"):
            (REFERENCES / f"{stale}{suffix}").unlink(missing_ok=True)
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


def _moved(render: Render, delivered: Delivered, image: pyvips.Image, was: dict[str, Any] | None) -> str:
    now = f"{image.width}x{image.height} {delivered.content_type:11}"
    if was is None:
        return f"{now} new"
    if [was["width"], was["height"], was["content_type"]] != [
        image.width,
        image.height,
        delivered.content_type,
    ]:
        return f"{now} was {was['width']}x{was['height']} {was['content_type']}"
    before = fingerprint.read(REFERENCES, render.id, tuple(was["tile_at"]))
    c = fingerprint.compare(before, fingerprint.fingerprint(image, before.tile_at))
    return f"{now} against the old reference: overview dE {c.overview_de:5.2f}, tile {c.tile:6.2f}"


if __name__ == "__main__":
    sys.exit(main())
