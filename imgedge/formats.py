"""The output formats: one row each, and everything else (parsing, negotiation, encoding, headers) reads it.

Adding a format is a row here plus its tests; see docs/architecture.md. Pure data, no imports beyond the
standard library, because the public URL package reads the names and aliases too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

AUTO = "auto"
# q:auto's smallest size class: variants whose longest side is at most this get the row's
# small_auto_quality_options too.
SMALL_SIDE = 256


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    media_type: str
    suffix: str  # the file extension, which is also how libvips picks its saver
    aliases: tuple[str, ...] = ()
    # f:auto tries the ranked formats in order, for clients that list the media type in Accept.
    auto_rank: int | None = None
    # What f:auto gives a client that accepts none of the ranked formats: one for opaque images, one for
    # images with alpha. Clients in this group share one cache entry ("legacy").
    fallback_for: str | None = None  # "opaque" | "alpha"
    alpha: bool = True
    animation: bool = False
    quality_option: str | None = None  # the saver's quality parameter, when it has one
    default_quality: int = 0
    effort_option: str | None = None  # the saver's speed/size trade-off parameter
    effort_range: tuple[int, int] = (0, 0)
    default_effort: int = 0
    effort_setting: str = "EFFORT"  # IMGEDGE_{NAME}_{effort_setting}
    saver_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Added for q:auto encodes: what measurably lowers the bytes that meet a perceptual target.
    auto_quality_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Added for q:auto encodes of variants no larger than SMALL_SIDE, where a setting pays only there.
    small_auto_quality_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Named alternatives a q:auto search also tries, per image: it keeps whichever meets the target in the
    # fewest bytes, and the asset's later variants of the size class encode with it.
    auto_quality_tunings: Mapping[str, Mapping[str, object]] = field(
        default_factory=lambda: MappingProxyType({})
    )


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat(
        "avif", "image/avif", ".avif", auto_rank=0, quality_option="Q", default_quality=55,
        # Measured in benchmarks/results/encoders.md: effort 0 (aom speed 9) encodes a 400 px variant in a
        # fifth of the CPU of effort 2 for 23% more bytes at equal SSIMULACRA2.
        effort_option="effort", effort_range=(0, 9), default_effort=0,
        saver_options=MappingProxyType({"compression": "av1"}),
        # Full-resolution chroma for small q:auto variants only. At SSIMULACRA2 70, 4:2:0 needs a median 9%
        # more bytes at 256 px (up to 50%); at 400 px 2% more for 12% less encode CPU, at 800 px 1% more for
        # 16% less (docs/quality.md).
        small_auto_quality_options=MappingProxyType({"subsample_mode": "off"}),
    ),
    OutputFormat(
        "webp", "image/webp", ".webp", auto_rank=1, animation=True, quality_option="Q", default_quality=80,
        # 2 rather than libvips' 4: half the encode CPU for 8% more bytes at equal SSIMULACRA2 (encoders.md).
        effort_option="effort", effort_range=(0, 6), default_effort=2,
        # Sharp YUV (libwebp's RGB→YUV that keeps colour edges) for small q:auto variants only: up to 256 px
        # it lets more images reach the target and saves up to 45% of the bytes of those that need it, for
        # 1.5-4 ms; at 400 px it saves a median 3.5% for 1.7x the encode time (docs/quality.md).
        small_auto_quality_options=MappingProxyType({"smart_subsample": True}),
        # libwebp's drawing preset: weaker noise shaping and loop filter than its default. On some photos it
        # meets SSIMULACRA2's target in 2-5% fewer bytes, on most in more, at the same encode CPU; the search
        # tries it only where it could be smaller (docs/quality.md).
        auto_quality_tunings=MappingProxyType({"drawing": MappingProxyType({"preset": "drawing"})}),
    ),
    OutputFormat(
        "jpeg", "image/jpeg", ".jpg", aliases=("jpg",), fallback_for="opaque", alpha=False,
        quality_option="Q", default_quality=80,
        saver_options=MappingProxyType({"optimize_coding": True}),
    ),
    OutputFormat(
        "png", "image/png", ".png", fallback_for="alpha", effort_option="compression",
        effort_range=(0, 9), default_effort=6, effort_setting="COMPRESSION",
    ),
    OutputFormat("gif", "image/gif", ".gif", animation=True),
)  # fmt: skip

BY_NAME: Mapping[str, OutputFormat] = MappingProxyType({f.name: f for f in FORMATS})
# Every spelling a URL may use for a format (names, aliases, and `auto`) → the format's name.
SPELLINGS: Mapping[str, str] = MappingProxyType(
    {AUTO: AUTO, **{spelling: f.name for f in FORMATS for spelling in (f.name, *f.aliases)}}
)
AUTO_ORDER: tuple[OutputFormat, ...] = tuple(
    sorted((f for f in FORMATS if f.auto_rank is not None), key=lambda f: f.auto_rank or 0)
)
FALLBACK = {f.fallback_for: f.name for f in FORMATS if f.fallback_for}


def media_type(name: str) -> str:
    return BY_NAME[name].media_type
