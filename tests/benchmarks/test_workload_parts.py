"""The pieces the new workloads are built from: never-seen originals, Next.js URLs, the warm-up site's mix."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyvips

from benchmarks import corpus, fresh_assets, nextjs_server, prewarm


def test_fresh_originals_are_distinct_photos_of_the_same_size(tmp_path: Path) -> None:
    squares = corpus.build(tmp_path / "corpus", squares=2, large=False)
    made = list(itertools.islice(fresh_assets.images(squares), 6))
    assert len({hashlib.sha256(data).digest() for _, data in made}) == 6
    for _, data in made:
        image = pyvips.Image.new_from_buffer(data, "")
        assert (image.width, image.height) == (1024, 1024)
    first = pyvips.Image.new_from_file(str(squares[0].path))
    changed = pyvips.Image.new_from_buffer(made[0][1], "")
    assert (first - changed).abs().max() == 1  # one pixel, by one level


def test_nextjs_paths_name_a_local_original_with_a_version_query() -> None:
    path = nextjs_server.path("astronaut-1024x1024.png", width=400, quality=80, version=7)
    parts = urlsplit(path)
    assert parts.path == "/_next/image"
    assert parse_qs(parts.query) == {
        "url": ["/bench/astronaut-1024x1024.png?v=7"], "w": ["400"], "q": ["80"],
    }  # fmt: skip


def test_the_warm_up_site_asks_for_its_layout_in_proportion() -> None:
    requests = prewarm.site_requests(b"k" * 32, ["a" * 32, "b" * 32], 4000, random.Random(1))
    widths = Counter(r.path.split("/")[2] for r in requests)
    share = {w: n / len(requests) for w, n in widths.items()}
    assert abs(share["w:256"] - 0.35) < 0.03 and abs(share["w:828"] - 0.25) < 0.03
    assert all("f:" not in r.path for r in requests)  # f:auto, the default, is left out of the URL
    assert abs(sum(r.accept == prewarm.BROWSERS[0][0] for r in requests) / len(requests) - 0.65) < 0.03
