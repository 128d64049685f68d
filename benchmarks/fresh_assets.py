"""Never-seen originals: the benchmark photos with one pixel changed each, so every copy is a new asset.

Assets are content-addressed, so a changed pixel is a new asset id, an origin fetch and a decode for the
proxy, at the cost of a 1024² photo like the others. The cold workload ingests a batch of them with
`imgedge ingest`; the warm-up workload uploads them one at a time over HTTP, as new images arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyvips

from benchmarks import corpus


def images(squares: list[corpus.Original], start: int = 0) -> Iterator[tuple[str, bytes]]:
    """(name, PNG bytes) of endless distinct variants of the 1024² photos."""
    loaded = [pyvips.Image.new_from_file(str(o.path)).copy_memory() for o in squares]
    index = start
    while True:
        base = loaded[index % len(loaded)]
        x, y = (index * 7919) % base.width, (index // base.width) % base.height
        pixel = [(v + 1 + index // (base.width * base.height)) % 256 for v in base(x, y)]
        changed = base.draw_rect(pixel, x, y, 1, 1)
        # compression=1: the generator re-encodes every original it stores anyway.
        yield f"fresh-{index}", bytes(changed.write_to_buffer(".png", compression=1))
        index += 1


def write(
    squares: list[corpus.Original], count: int, directory: Path, start: int = 0
) -> list[corpus.Original]:
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    for _, (name, data) in zip(range(count), images(squares, start), strict=False):
        path = directory / f"{name}.png"
        path.write_bytes(data)
        made.append(corpus.Original(name, path, 1024, 1024))
    return made
