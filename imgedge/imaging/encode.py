"""Encode with the saver options of imgedge.formats plus configured qualities and efforts.

Their fingerprint is part of every cache key, so changing a setting (or libvips) rotates keys.
Metadata: `strip` writes none, except an XMP packet given by the caller (the provenance label of a
generated image), which every format with XMP (AVIF, WebP, JPEG, PNG) keeps.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pyvips

from imgedge.formats import BY_NAME, FORMATS, SMALL_SIDE
from imgedge.imaging import webp_direct
from imgedge.imaging.libvips import saver_arguments

# What the encoder writes besides pixels; part of the fingerprint, so a change here rotates cache keys.
METADATA_POLICY = "strip-keeps-provenance-xmp-1"
_KEEP_UNSTRIPPED = "exif:xmp:iptc:icc"


def _defaults(attribute: str, option: str) -> Mapping[str, int]:
    return MappingProxyType({f.name: getattr(f, attribute) for f in FORMATS if getattr(f, option)})


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """Per-format quality and effort; a format left out takes its row's default."""

    quality: Mapping[str, int] = field(default_factory=lambda: _defaults("default_quality", "quality_option"))
    effort: Mapping[str, int] = field(default_factory=lambda: _defaults("default_effort", "effort_option"))

    def quality_for(self, fmt: str) -> int:
        return self.quality.get(fmt, BY_NAME[fmt].default_quality)

    def effort_for(self, fmt: str) -> int:
        return self.effort.get(fmt, BY_NAME[fmt].default_effort)

    def options(
        self, fmt: str, quality: int, *, auto: bool = False, small: bool = False, tuning: str = ""
    ) -> dict[str, Any]:
        """`auto`: a q:auto encode; `small`: of a variant no larger than SMALL_SIDE; `tuning`: one of the
        row's q:auto tunings, which a search chose for the image ("": none)."""
        row = BY_NAME[fmt]
        options: dict[str, Any] = dict(row.saver_options)
        if auto:
            options.update(row.auto_quality_options)
            if small:
                options.update(row.small_auto_quality_options)
            if tuning:
                options.update(row.auto_quality_tunings[tuning])
        if row.quality_option:
            options[row.quality_option] = quality or self.quality_for(fmt)
        if row.effort_option:
            options[row.effort_option] = self.effort_for(fmt)
        return options

    @property
    def version(self) -> str:
        return _fingerprint(self)

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.quality.items())), tuple(sorted(self.effort.items()))))


_KINDS = ((False, False), (True, False), (True, True))  # fixed quality, q:auto, q:auto of a small variant


@functools.lru_cache(maxsize=8)
def _fingerprint(settings: EncoderSettings) -> str:
    # Cached: it sits on the cache-hit path of every request.
    rows = [
        [
            f.name,
            *(settings.options(f.name, 0, auto=auto, small=small) for auto, small in _KINDS),
            {name: dict(options) for name, options in f.auto_quality_tunings.items()},
        ]
        for f in FORMATS
    ]
    blob = json.dumps(
        [rows, pyvips.version(0), pyvips.version(1), METADATA_POLICY], sort_keys=True, default=str
    )
    return "e" + hashlib.sha256(blob.encode()).hexdigest()[:10]


def encode(
    image: pyvips.Image, fmt: str, *, quality: int, strip: bool, settings: EncoderSettings,
    auto: bool = False, tuning: str = "", xmp: bytes | None = None,
) -> bytes:  # fmt: skip
    """`auto`: the quality was chosen for a perceptual target (q:auto), so the table's q:auto options apply,
    and `tuning` names the row's q:auto tuning chosen with it.
    `xmp` replaces whatever XMP the image had and is written even when stripping."""
    # strip=0 keeps the descriptive blocks (EXIF, XMP, IPTC, ICC) but not "other": PNG text chunks can hold
    # a generated original's prompt, which is published only by the label, and only when opted in.
    keep = "none" if strip else _KEEP_UNSTRIPPED
    if xmp is not None:
        image = image.copy()  # metadata is set on a copy: the input may be shared (a cached source)
        image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp)
        keep = "xmp" if strip else keep
    small = max(image.width, image.height) <= SMALL_SIDE
    return save(image, fmt, keep, **settings.options(fmt, quality, auto=auto, small=small, tuning=tuning))


def save(image: pyvips.Image, fmt: str, keep: str, **options: Any) -> bytes:
    """`image` as `fmt` with the saver `options`, with only the metadata `keep` names (libvips 8.15's
    spelling: "none", or kinds joined by ':'), whatever the libvips. The common WebP variant goes to libwebp
    without libvips' saver, for the same bytes (imgedge.imaging.webp_direct)."""
    if fmt == "webp" and webp_direct.takes(image, keep, options):
        # Should Pillow fail, libvips encodes instead (or fails and says why, as it always has).
        with contextlib.suppress(OSError, ValueError):
            return webp_direct.encode(image, keep, options)
    return libvips_save(image, fmt, keep, **options)


def libvips_save(image: pyvips.Image, fmt: str, keep: str, **options: Any) -> bytes:
    """`save` through libvips' own saver whatever the format (the benchmark's libvips loop uses it)."""
    image = keep_only(image, fmt, keep)
    data: bytes = image.write_to_buffer(BY_NAME[fmt].suffix, **options, **metadata_options(fmt, keep))
    return data


def metadata_options(fmt: str, keep: str) -> dict[str, Any]:
    """`keep` from libvips 8.15; before (Debian 12 has 8.14) savers know only an all-or-nothing `strip`."""
    if _has_keep(fmt):
        return {"keep": keep}
    return {"strip": keep == "none"}


def saver_options(
    fmt: str, *, quality: int, keep: str, settings: EncoderSettings, auto: bool = False
) -> dict[str, Any]:
    """Every option imgedge passes to the saver of `fmt`, as this libvips spells them."""
    return {**settings.options(fmt, quality, auto=auto), **metadata_options(fmt, keep)}


def keep_only(image: pyvips.Image, fmt: str, keep: str) -> pyvips.Image:
    """Before `keep`, what it would leave out is removed from the image itself: `strip` cannot say "only
    XMP", and 8.14's WebP saver ignores it altogether (libvips issue #3340), EXIF with GPS and all."""
    if _has_keep(fmt):
        return image
    kept = set() if keep == "none" else set(keep.split(":"))
    drop = [name for name in image.get_fields() if _metadata_kind(name) not in (None, *kept)]
    if not drop:
        return image
    image = image.copy()
    for name in drop:
        image.remove(name)
    return image


def _has_keep(fmt: str) -> bool:
    return "keep" in saver_arguments(BY_NAME[fmt].suffix)


def _metadata_kind(field_name: str) -> str | None:
    """The `keep` kind a metadata field belongs to; None for what is not metadata (size, pages, loader)."""
    for prefix, kind in (("exif-", "exif"), ("xmp-", "xmp"), ("iptc-", "iptc"), ("icc-", "icc")):
        if field_name.startswith(prefix):
            return kind
    return "other" if "comment" in field_name else None  # PNG text chunks, GIF and JPEG comments
