"""The request lists each workload walks: unique uncached variants, a hit set, a Zipf mix."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from benchmarks.load_types import Request
from imgedge.url.build import build_path
from imgedge.url.signing import imgproxy_signature, thumbor_signature

# What browsers send: the negotiated format follows (AVIF, WebP, then JPEG for the rest).
CHROMIUM_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"
ACCEPTS = (
    CHROMIUM_ACCEPT,  # Chromium
    "image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",  # Safari 14-15
    "image/png,image/*;q=0.8,*/*;q=0.5",  # older browsers → JPEG
)
PLAYGROUND_WIDTHS = (320, 640, 960, 1280)  # generator.config.PLAYGROUND_WIDTHS, the playground's srcset


class UniqueVariants:
    """Distinct cache keys at identical cost: `bg:` only matters for alpha or padding, which these
    opaque, unpadded 400 px transforms never use, yet it is part of the canonical form and so of the key."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self._colours: Iterator[int] = itertools.count(1)

    def take(
        self,
        asset_ids: list[str],
        fmt: str,
        count: int,
        *,
        width: int = 400,
        quality: int | None = 80,
        accept: str = "",
    ) -> list[Request]:
        requests = []
        for _, asset_id in zip(range(count), itertools.cycle(asset_ids), strict=False):
            colour = f"bg:{next(self._colours) % 0xFFFFFF:06x}"
            path = build_path(asset_id, key=self.key, width=width, fmt=fmt, quality=quality, extra=[colour])
            requests.append(Request(path, accept))
        return requests


# The benchmark's imgedge knows these, so the same workload can be spelled in each dialect.
THUMBOR_KEY = "benchmark-thumbor-key"
IMGPROXY_KEY, IMGPROXY_SALT = "62656e63682d6b6579", "62656e63682d73616c74"
DIALECT_ENV = {
    "IMGEDGE_THUMBOR_SECURITY_KEY": THUMBOR_KEY,
    "IMGEDGE_IMGPROXY_KEY": IMGPROXY_KEY,
    "IMGEDGE_IMGPROXY_SALT": IMGPROXY_SALT,
}


def thumbor_path(asset_id: str, fmt: str, width: int, quality: int, colour: str) -> str:
    """A signed thumbor URL (HMAC-SHA1 of the path after the hash, urlsafe base64 with padding)."""
    path = f"{width}x0/filters:format({fmt}):quality({quality}):background_color({colour})/{asset_id}"
    return f"/thumbor/{thumbor_signature(THUMBOR_KEY.encode(), path)}/{path}"


def imgproxy_path(asset_id: str, fmt: str, width: int, quality: int, colour: str) -> str:
    """A signed imgproxy URL (HMAC-SHA256 of salt + path, unpadded base64url)."""
    path = f"/rs:fit:{width}:0/q:{quality}/bg:{colour}/plain/{asset_id}@{fmt}"
    signature = imgproxy_signature(bytes.fromhex(IMGPROXY_KEY), bytes.fromhex(IMGPROXY_SALT), path)
    return f"/imgproxy/{signature}{path}"


class UniqueDialectVariants:
    """UniqueVariants' workload spelled as thumbor or imgproxy URLs: the same transform, encode and
    bytes; the background colour that keeps keys apart comes as background_color(…) or bg:…"""

    def __init__(self, dialect: str) -> None:
        self.build = {"thumbor": thumbor_path, "imgproxy": imgproxy_path}[dialect]
        self._colours: Iterator[int] = itertools.count(1)

    def take(
        self, asset_ids: list[str], fmt: str, count: int, *, width: int = 400, quality: int = 80
    ) -> list[Request]:
        return [
            Request(self.build(asset_id, fmt, width, quality, f"{next(self._colours) % 0xFFFFFF:06x}"))
            for _, asset_id in zip(range(count), itertools.cycle(asset_ids), strict=False)
        ]


def fixed_variants(
    key: bytes | None, asset_ids: list[str], fmts: tuple[str, ...], width: int = 400
) -> list[Request]:
    return [Request(build_path(a, key=key, width=width, fmt=f, quality=80)) for a in asset_ids for f in fmts]


def zipf_mix(
    key: bytes | None, asset_ids: list[str], count: int, *, seed: int, tail: int = 0, exponent: float = 1.1
) -> list[Request]:
    """Requests over assets x srcset widths x browsers (x `tail` extra qualities, a long tail of rare
    variants that keeps some misses coming), Zipf-weighted by a shuffled popularity rank."""
    rng = random.Random(seed)
    qualities: list[int | None] = [None, *range(90, 90 - tail, -1)]
    variants = [
        Request(build_path(asset_id, key=key, width=width, fmt="auto", quality=quality), accept)
        for quality, asset_id, width, accept in itertools.product(
            qualities, asset_ids, PLAYGROUND_WIDTHS, ACCEPTS
        )
    ]
    rng.shuffle(variants)  # popularity independent of asset order
    weights = [1 / (rank**exponent) for rank in range(1, len(variants) + 1)]
    return rng.choices(variants, weights=weights, k=count)
