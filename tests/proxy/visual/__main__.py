"""Regenerate the visual references on purpose: `make visual-references` (see README, "Visual regression").

Renders every case through the proxy, writes its overview and tile PNGs and the manifest, and prints how
far each render moved from the reference it replaces.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.proxy.visual import fingerprint
from tests.proxy.visual.cases import RENDERS
from tests.proxy.visual.originals import write_originals
from tests.proxy.visual.renders import MANIFEST, REFERENCES, deliver, manifest_entry, proxy


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        originals = Path(scratch) / "originals"
        write_originals(originals)
        old = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
        manifest: dict[str, object] = {}
        with proxy(originals, learn=False) as plain, proxy(originals, learn=True) as learning:
            for render in RENDERS:
                client = learning if render.case.learn_from_width else plain
                delivered = deliver(client, render)
                image = fingerprint.decode(delivered.body)
                new = fingerprint.fingerprint(image)
                moved = "new"
                if render.id in old:
                    was = old[render.id]
                    before = fingerprint.read(REFERENCES, render.id, tuple(was["tile_at"]))
                    c = fingerprint.compare(before, fingerprint.fingerprint(image, before.tile_at))
                    moved = f"against the old reference: overview dE {c.overview_de:5.2f}, tile {c.tile:6.2f}"
                fingerprint.write(new, REFERENCES, render.id)
                manifest[render.id] = manifest_entry(
                    render, delivered, image.width, image.height, new.tile_at
                )
                print(f"{render.id:32} {image.width}x{image.height} {delivered.content_type:11} {moved}")
        for stale in set(old) - set(manifest):
            for suffix in (".png", ".tile.png"):
                (REFERENCES / f"{stale}{suffix}").unlink(missing_ok=True)
        MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
